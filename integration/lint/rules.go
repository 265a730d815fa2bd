package main

import "strings"

// maxFuncLines is the longest a top-level func or method may be, counted
// from the line of its func keyword to the line of its closing brace.
const maxFuncLines = 60

// layering is the import rule table of DESIGN.md ("Layout"): imports point
// one way, backends/ and sources/ import nothing of ours outside themselves,
// index/ imports backends/, fs/ reads through index/, daemon/ wires it all
// and cmd/ is a thin shell over daemon/'s engine.
//
// Each row governs the packages matched by from and lists the packages of
// this module they may import (allow), minus exceptions (deny). Imports from
// outside the module are never checked. Patterns are module-relative:
// "x" is package x alone, "x/..." is x and every package below it, and
// "..." is every package of the module, the root included. The first row
// whose from matches the importing package applies, so the last row is the
// default for packages no other row names. Why is printed with each
// violation; say what the rule allows.
var layering = []rule{
	{
		from:  "integration/...",
		allow: []string{"..."},
		why:   "integration/ may import anything",
	},
	{
		from:  "backends/...",
		allow: []string{"backends/..."},
		why:   "backends/ may import only backends/",
	},
	{
		from:  "sources/...",
		allow: []string{"sources/..."},
		why:   "sources/ may import only sources/",
	},
	{
		from:  "index/...",
		allow: []string{"index/...", "backends/...", "sources"},
		why:   "index/ may import only index/, backends/ and the package sources itself (no source kind)",
	},
	{
		from:  "fs/...",
		allow: []string{"fs/...", "index/...", "sources"},
		why:   "fs/ may import only fs/, index/ and the package sources itself (no source kind)",
	},
	{
		from:  "daemon/...",
		allow: []string{"..."},
		deny:  []string{"cmd/...", "integration/..."},
		why:   "daemon/ may import anything of ours except cmd/ and integration/",
	},
	{
		from:  "cmd/...",
		allow: []string{"daemon/...", "sources"},
		why:   "cmd/ is a thin shell over daemon/: it may import only daemon/ and the package sources itself",
	},
	{
		from:  "...",
		allow: []string{"..."},
		deny:  []string{"integration/..."},
		why:   "only integration/ may import integration/",
	},
}

// rule is one row of layering.
type rule struct {
	from  string   // pattern of the importing packages this row governs
	allow []string // patterns of the module's packages they may import
	deny  []string // patterns excluded from allow
	why   string   // the rule in words, printed with a violation
}

// permits reports whether a package governed by r may import the
// module-relative package imported.
func (r rule) permits(imported string) bool {
	return matchAny(r.allow, imported) && !matchAny(r.deny, imported)
}

// ruleFor returns the first row of layering that governs the
// module-relative package pkg.
func ruleFor(pkg string) rule {
	for _, r := range layering {
		if match(r.from, pkg) {
			return r
		}
	}
	// Unreachable while the last row's from is "...".
	return rule{from: "...", allow: []string{"..."}}
}

// matchAny reports whether any of patterns matches pkg.
func matchAny(patterns []string, pkg string) bool {
	for _, p := range patterns {
		if match(p, pkg) {
			return true
		}
	}
	return false
}

// match reports whether the module-relative package pkg ("" for the
// module's root package) matches pattern: "..." matches every package,
// "x/..." matches x and the packages below it, anything else only itself.
func match(pattern, pkg string) bool {
	if pattern == "..." {
		return true
	}
	if dir, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == dir || strings.HasPrefix(pkg, dir+"/")
	}
	return pkg == pattern
}
