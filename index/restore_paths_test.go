package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Entries as a crafted manifest may hold them: restore tests hand them
// to restoreFrom directly, as no backup writes such paths (and the
// catalog may refuse them), while restore must be safe on its own.
var craftedTime = time.Unix(1700000000, 0).UTC()

func dirEntry(p string) File {
	return File{Entry: sources.Entry{Path: p, Type: sources.TypeDir, Mode: 0o755, ModTime: craftedTime}}
}

func emptyFile(p string) File {
	return File{Entry: sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o644, ModTime: craftedTime}}
}

func symlinkEntry(p, target string) File {
	return File{Entry: sources.Entry{Path: p, Type: sources.TypeSymlink, Mode: 0o777, ModTime: craftedTime, Target: target}}
}

// dirState is what a restore must leave alone in a directory: its mode,
// mtime and names.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, n := range names {
		ns = append(ns, n.Name())
	}
	return fmt.Sprintf("mode %v mtime %v names %q", fi.Mode(), fi.ModTime(), ns)
}

// TestRestoreRefusesPathsOutsideTarget: a manifest whose paths climb out
// of the target (the reviewer's `a/../..`, with a mode and mtime for
// the parent and files and a symlink to create in it), or hold empty,
// '.' or NUL components, fails the restore naming the entry, before
// anything is created or changed: the target's parent keeps its mode,
// mtime and contents, and the target is not even created.
func TestRestoreRefusesPathsOutsideTarget(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	root := dirEntry("")
	climb := dirEntry("a/../..")
	climb.Mode, climb.ModTime = 0o777, time.Unix(2000, 0)
	cases := []struct {
		name  string
		root  File
		path  string
		files []File
		bad   string // the entry the error must name
	}{
		{"parent of the target", root, "", []File{dirEntry("a"), dirEntry("a/.."), climb,
			emptyFile("a/../../escaped-file3"), symlinkEntry("a/../../escaped-link3", "/etc/passwd")}, "a/.."},
		{"climb in a file's path", root, "", []File{dirEntry("a"), emptyFile("a/../../escaped")}, "a/../../escaped"},
		{"absolute", root, "", []File{emptyFile("/escaped")}, "/escaped"},
		{"dot", root, "", []File{emptyFile("./x")}, "./x"},
		{"empty component", root, "", []File{dirEntry("a"), emptyFile("a//x")}, "a//x"},
		{"trailing slash", root, "", []File{emptyFile("x/")}, "x/"},
		{"NUL", root, "", []File{emptyFile("x\x00y")}, "x\x00y"},
		{"subtree climbs", dirEntry("sub"), "sub", []File{dirEntry("sub/.."), emptyFile("sub/../../x")}, "sub/.."},
		{"not under the subtree", dirEntry("sub"), "sub", []File{emptyFile("other/x")}, "other/x"},
		{"single file named ..", emptyFile("a/.."), "a/..", []File{emptyFile("a/..")}, "a/.."},
	}
	for _, c := range cases {
		for _, dry := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s dry=%v", c.name, dry), func(t *testing.T) {
				parent := filepath.Join(t.TempDir(), "rt3")
				if err := os.Mkdir(parent, 0o750); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(parent, craftedTime, craftedTime); err != nil {
					t.Fatal(err)
				}
				before := dirState(t, parent)
				target := filepath.Join(parent, "inner")
				files := append([]File(nil), c.files...)
				_, err := st.restoreFrom(ctx, c.root, files, c.path, target, RestoreOptions{DryRun: dry, Overwrite: true})
				if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.bad)) || errors.Is(err, ErrConflict) {
					t.Fatalf("restore: %v; want an error naming entry %q (not a conflict)", err, c.bad)
				}
				if after := dirState(t, parent); after != before {
					t.Errorf("the target's parent changed:\n  before %s\n  after  %s", before, after)
				}
			})
		}
	}
}

// TestRestoreWritesThroughNoSymlink: an entry inside a stored symlink
// (`l -> outside`, then `l/file`), or a symlink repeating a directory's
// path, is refused before anything is written; and a symlink that is in
// the target by the time the restore writes (put there after the plan,
// or written by the restore itself) is never followed: the write fails,
// naming the entry, and nothing appears outside. Both ways of opening a
// directory are checked: openat2 and the walk used without it.
func TestRestoreWritesThroughNoSymlink(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	root := dirEntry("")
	refused := []struct {
		name  string
		files []File
		bad   string
	}{
		{"file in a stored symlink", []File{symlinkEntry("l", "OUTSIDE"), emptyFile("l/file")}, "l/file"},
		{"directory in a stored symlink", []File{symlinkEntry("l", "OUTSIDE"), dirEntry("l/d"), emptyFile("l/d/file")}, "l/d"},
		{"symlink repeating a directory", []File{dirEntry("l"), symlinkEntry("l", "OUTSIDE"), emptyFile("l/file")}, "l"},
		{"file in a stored file", []File{emptyFile("f"), emptyFile("f/file")}, "f/file"},
	}
	for _, c := range refused {
		t.Run(c.name, func(t *testing.T) {
			base := t.TempDir()
			outside := filepath.Join(base, "outside")
			if err := os.Mkdir(outside, 0o755); err != nil {
				t.Fatal(err)
			}
			var files []File
			for _, f := range c.files {
				f.Target = strings.ReplaceAll(f.Target, "OUTSIDE", outside)
				files = append(files, f)
			}
			target := filepath.Join(base, "target")
			_, err := st.restoreFrom(ctx, root, files, "", target, RestoreOptions{})
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", c.bad)) {
				t.Fatalf("restore: %v; want an error naming entry %q", err, c.bad)
			}
			if _, err := os.Lstat(target); !os.IsNotExist(err) {
				t.Errorf("target created (%v) by a refused restore", err)
			}
			if s := dirState(t, outside); strings.Contains(s, "file") {
				t.Errorf("written outside the target: %s", s)
			}
		})
	}

	// A symlink in the target where a directory of the version is, put
	// there after the plan: before prepare (which would create in it)
	// and after it (the writes would create in it).
	for _, walk := range []bool{false, true} {
		for _, when := range []string{"before prepare", "before the writes", "never"} {
			t.Run(fmt.Sprintf("planted %s walk=%v", when, walk), func(t *testing.T) {
				if walk {
					old := noOpenat2.Load()
					noOpenat2.Store(true)
					t.Cleanup(func() { noOpenat2.Store(old) })
				}
				base := t.TempDir()
				outside := filepath.Join(base, "outside")
				target := filepath.Join(base, "target")
				if err := os.Mkdir(outside, 0o755); err != nil {
					t.Fatal(err)
				}
				files := []File{dirEntry("d"), dirEntry("d/e"), emptyFile("d/e/f"), symlinkEntry("d/e/l", "f")}
				p, err := planRestore(root, files, "", target, RestoreOptions{})
				if err != nil {
					t.Fatal(err)
				}
				plant := func() {
					if err := os.RemoveAll(filepath.Join(target, "d")); err != nil {
						t.Fatal(err)
					}
					if err := os.MkdirAll(filepath.Join(outside, "e"), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.Symlink(outside, filepath.Join(target, "d")); err != nil {
						t.Fatal(err)
					}
				}
				if when == "before prepare" {
					if err := os.MkdirAll(target, 0o755); err != nil {
						t.Fatal(err)
					}
					plant()
				}
				err = p.prepare()
				if err == nil {
					defer p.root.close()
					if when == "before the writes" {
						plant()
					}
					_, err = st.writePlan(ctx, p, RestoreOptions{})
				}
				if when == "never" {
					if err != nil {
						t.Fatalf("restore of the same entries into a clean target: %v", err)
					}
					if fi, err := os.Lstat(filepath.Join(target, "d/e/l")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
						t.Fatalf("d/e/l not restored as a symlink: %v", err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), "symlink") {
					t.Fatalf("restore through a planted symlink: %v; want an error saying a symlink is in the way", err)
				}
				if when == "before the writes" && !strings.Contains(err.Error(), "d/e/f") {
					t.Errorf("error %q does not name the entry d/e/f", err)
				}
				if s := dirState(t, filepath.Join(outside, "e")); strings.Contains(s, `"f"`) || strings.Contains(s, "strata") || strings.Contains(s, `"l"`) {
					t.Errorf("written outside the target: %s", s)
				}
				if fi, err := os.Stat(filepath.Join(outside, "e")); err != nil || fi.Mode().Perm() != 0o755 || fi.ModTime().Equal(craftedTime) {
					t.Errorf("a directory outside the target was changed: %v %v", fi.Mode(), err)
				}
			})
		}
	}
}

// TestRestoreHardLinksAndSymlinks: the names of a hard-linked file are
// linked again, in other directories too, and symlinks and modes come
// back, now that every entry is made relative to its directory's
// descriptor; a rerun skips them all.
func TestRestoreHardLinksAndSymlinks(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	mt := time.Unix(1700000000, 0).UTC()
	entries := []ownedEntry{
		{e: sources.Entry{Path: "a", Type: sources.TypeFile, Mode: 0o640, ModTime: mt, Size: 5, HardLink: 7, Nlink: 2}, data: "hello"},
		{e: sources.Entry{Path: "d", Type: sources.TypeDir, Mode: 0o750, ModTime: mt}},
		{e: sources.Entry{Path: "d/b", Type: sources.TypeFile, Mode: 0o640, ModTime: mt, Size: 5, HardLink: 7, Nlink: 2}, data: "hello"},
		{e: sources.Entry{Path: "d/l", Type: sources.TypeSymlink, Mode: 0o777, ModTime: mt, Target: "../a"}},
	}
	v, err := st.Backup(ctx, &ownerSource{entries: entries}, ownedObj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := st.Restore(ctx, v, "", dst, RestoreOptions{Verify: true}); err != nil {
		t.Fatal(err)
	}
	a, errA := os.Lstat(filepath.Join(dst, "a"))
	b, errB := os.Lstat(filepath.Join(dst, "d/b"))
	if errA != nil || errB != nil || !os.SameFile(a, b) || a.Mode().Perm() != 0o640 || !a.ModTime().Equal(mt) {
		t.Fatalf("a and d/b: %v %v, want one file of mode 0640 and mtime %v (%v, %v)", a, b, mt, errA, errB)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "d/l")); err != nil || string(got) != "hello" {
		t.Fatalf("read through d/l: %q, %v", got, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "d")); err != nil || fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(mt) {
		t.Fatalf("d: %v, %v; want mode 0750, mtime %v", fi.Mode(), err, mt)
	}
	res, err := st.Restore(ctx, v, "", dst, RestoreOptions{})
	if err != nil || res.Skipped != 3 || res.Restored != 0 {
		t.Fatalf("rerun: %+v, %v; want the 3 entries skipped", res, err)
	}
}

// TestRestoreRemovesTemporaries: a rerun removes the temporaries a killed
// run left in the target, for a single file (--path a.txt) as for the
// whole version, and only names restore makes: a user's file that merely
// starts with the prefix stays.
func TestRestoreRemovesTemporaries(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	v, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a.txt": []byte("hello\n"), "d/b": []byte("b\n")}}, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stale := []string{tempPrefix + "0123456789ab-1", tempPrefix + "fedcba987654-2z"}
	kept := []string{tempPrefix + "notes.txt", tempPrefix + "0123456789ab", "other"}
	if !isTempName(tempName()) {
		t.Fatalf("isTempName(%q) = false", tempName())
	}
	for _, path := range []string{"a.txt", ""} {
		t.Run("path="+path, func(t *testing.T) {
			dst := t.TempDir()
			for _, n := range append(append([]string(nil), stale...), kept...) {
				if err := os.WriteFile(filepath.Join(dst, n), []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := st.Restore(ctx, v, path, dst, RestoreOptions{}); err != nil {
				t.Fatal(err)
			}
			for _, n := range stale {
				if _, err := os.Lstat(filepath.Join(dst, n)); !os.IsNotExist(err) {
					t.Errorf("leftover %s still there (%v)", n, err)
				}
			}
			for _, n := range append(kept, "a.txt") {
				if _, err := os.Lstat(filepath.Join(dst, n)); err != nil {
					t.Errorf("%s: %v; want it kept", n, err)
				}
			}
		})
	}
}

// TestRestoreConflictAdvice: what --overwrite cannot resolve (a symlink
// where the version has a directory, the target itself a symlink, a
// directory where the version has a file) is refused with or without
// it, and the error gives the remedy that works (remove or rename)
// instead of advising --overwrite, which it does only for files that
// differ. Nothing is written through the symlink.
func TestRestoreConflictAdvice(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	v, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a.txt": []byte("hello\n"), "sub/f": []byte("f\n")}}, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		setup func(t *testing.T, target, outside string) string // returns the target to restore into
		want  string
	}{
		{"symlink where a directory is", func(t *testing.T, target, outside string) string {
			mustDo(t, os.Mkdir(target, 0o755), os.Symlink(outside, filepath.Join(target, "sub")))
			return target
		}, "sub (a symlink where the version has a directory)"},
		{"target is a symlink", func(t *testing.T, target, outside string) string {
			link := target + "-link"
			mustDo(t, os.Symlink(outside, link))
			return link
		}, "-link (the target is a symlink: give the directory it points to)"},
		{"directory where a file is", func(t *testing.T, target, outside string) string {
			mustDo(t, os.MkdirAll(filepath.Join(target, "a.txt"), 0o755))
			return target
		}, "a.txt (a directory where the version has a file)"},
	}
	for _, c := range cases {
		for _, overwrite := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s overwrite=%v", c.name, overwrite), func(t *testing.T) {
				base := t.TempDir()
				outside := filepath.Join(base, "outside")
				mustDo(t, os.Mkdir(outside, 0o755))
				target := c.setup(t, filepath.Join(base, "target"), outside)
				_, err := st.Restore(ctx, v, "", target, RestoreOptions{Overwrite: overwrite})
				if !errors.Is(err, ErrConflict) {
					t.Fatalf("restore: %v; want a conflict", err)
				}
				msg := err.Error()
				if strings.Contains(msg, "use --overwrite") || !strings.Contains(msg, "remove or rename") || !strings.Contains(msg, c.want) {
					t.Errorf("error %q: want it to name %q and advise remove or rename, not --overwrite", msg, c.want)
				}
				if names, _ := os.ReadDir(outside); len(names) != 0 {
					t.Errorf("%d entries written outside the target", len(names))
				}
			})
		}
	}
	// A file that differs is what --overwrite is for, and the error says so.
	target := t.TempDir()
	mustDo(t, os.WriteFile(filepath.Join(target, "a.txt"), []byte("other\n"), 0o644))
	if _, err := st.Restore(ctx, v, "", target, RestoreOptions{}); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "use --overwrite") || strings.Contains(err.Error(), "remove or rename") {
		t.Errorf("restore over a differing file: %v; want a conflict advising --overwrite only", err)
	}
	if _, err := st.Restore(ctx, v, "", target, RestoreOptions{Overwrite: true}); err != nil {
		t.Errorf("restore --overwrite over a differing file: %v", err)
	}
}

func mustDo(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
