package main

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Violation is one problem found in one file.
type Violation struct {
	File string // slash-separated path relative to the checked tree's root
	Line int
	Msg  string
}

// String formats v as "file:line: message", the form editors jump to.
func (v Violation) String() string {
	return fmt.Sprintf("%s:%d: %s", v.File, v.Line, v.Msg)
}

// Check checks every non-test .go file under root, the directory of a
// go.mod, against the layering table and the function length limit. It
// skips testdata and hidden directories (integration/.work among them)
// below root. The violations come sorted by file and line.
func Check(root string) ([]Violation, error) {
	module, err := modulePath(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	files, err := goFiles(root)
	if err != nil {
		return nil, err
	}
	var found []Violation
	fset := token.NewFileSet()
	for _, rel := range files {
		vs, err := checkFile(fset, root, rel, module)
		if err != nil {
			return nil, err
		}
		found = append(found, vs...)
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].File != found[j].File {
			return found[i].File < found[j].File
		}
		return found[i].Line < found[j].Line
	})
	return found, nil
}

// modulePath reads the module path from the module line of a go.mod file.
func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", fmt.Errorf("read module path: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if unq, err := strconv.Unquote(rest); err == nil {
			rest = unq
		}
		if rest != "" {
			return rest, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read module path from %s: %w", gomod, err)
	}
	return "", fmt.Errorf("read module path: %s has no module line", gomod)
}

// goFiles lists the non-test .go files under root, slash-separated and
// relative to root, skipping testdata, third_party (copies of other
// projects' code, kept as they wrote it) and hidden directories below
// root.
func goFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (name == "testdata" || name == "third_party" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walk %s: %w", root, err)
	}
	return files, nil
}

// checkFile parses root/rel and returns its layering and length violations.
func checkFile(fset *token.FileSet, root, rel, module string) ([]Violation, error) {
	f, err := parser.ParseFile(fset, filepath.Join(root, filepath.FromSlash(rel)), nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	pkg := path.Dir(rel)
	if pkg == "." {
		pkg = ""
	}
	vs := checkImports(fset, f, rel, pkg, module)
	return append(vs, checkFuncs(fset, f, rel)...), nil
}

// checkImports returns the imports of f, a file of the module-relative
// package pkg, that the layering table forbids.
func checkImports(fset *token.FileSet, f *ast.File, rel, pkg, module string) []Violation {
	r := ruleFor(pkg)
	var vs []Violation
	for _, imp := range f.Imports {
		ipath, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue // the parser accepted it, so this does not happen
		}
		var target string
		switch {
		case ipath == module:
			target = ""
		case strings.HasPrefix(ipath, module+"/"):
			target = ipath[len(module)+1:]
		default:
			continue // not ours
		}
		if r.permits(target) {
			continue
		}
		vs = append(vs, Violation{
			File: rel,
			Line: fset.Position(imp.Pos()).Line,
			Msg:  fmt.Sprintf("package %s imports %s: %s", display(pkg), display(target), r.why),
		})
	}
	return vs
}

// display names a module-relative package, "." for the root package.
func display(pkg string) string {
	if pkg == "" {
		return "."
	}
	return pkg
}

// checkFuncs returns the top-level funcs and methods of f longer than
// maxFuncLines. Func literals count toward the func that holds them.
func checkFuncs(fset *token.FileSet, f *ast.File, rel string) []Violation {
	var vs []Violation
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start := fset.Position(fn.Type.Func).Line
		n := fset.Position(fn.Body.Rbrace).Line - start + 1
		if n <= maxFuncLines {
			continue
		}
		vs = append(vs, Violation{
			File: rel,
			Line: start,
			Msg:  fmt.Sprintf("func %s is %d lines (limit %d): split it", funcName(fn), n, maxFuncLines),
		})
	}
	return vs
}

// funcName names fn as Name, or Type.Name for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.ParenExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name + "." + fn.Name.Name
		default:
			return fn.Name.Name
		}
	}
}
