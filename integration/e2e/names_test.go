package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// hostileNames are file names a source may hand over: dot look-alikes,
// control characters, 255-byte names (one that escaping makes too long),
// invalid UTF-8, and the escape characters themselves.
var hostileNames = []string{
	"...",
	".. x",
	"a\x01b",
	"new\nline",
	"tab\tx",
	strings.Repeat("n", 255),
	strings.Repeat("s", 254) + "\x01",
	"bad\xff\xfe",
	"per%cent\\back",
	"%41",
	"plain",
}

// TestHostileNames backs up files and directories with hostile names: the
// mount shows them escaped (sources.EscapeName) and readable, and restore
// writes the original bytes back.
func TestHostileNames(t *testing.T) {
	e := newEnv(t)
	src := e.path("src")
	for _, n := range hostileNames {
		writeFile(t, filepath.Join(src, "files", n), []byte("file "+n))
		writeFile(t, filepath.Join(src, "dirs", n, "inner"), []byte("inner "+n))
	}
	v := e.backup("names", src)

	t.Run("mount", func(t *testing.T) {
		me := *e
		me.t = t
		dir := versionDir(me.mount(), v)
		var want []string
		for _, n := range hostileNames {
			want = append(want, sources.EscapeName(n))
		}
		for _, sub := range []string{"files", "dirs"} {
			if got := dirNames(t, filepath.Join(dir, sub)); !slices.Equal(got, sorted(want)) {
				t.Errorf("mount %s: names %q, want %q", sub, got, sorted(want))
			}
		}
		for _, n := range hostileNames {
			esc := sources.EscapeName(n)
			catIs(t, filepath.Join(dir, "files", esc), "file "+n)
			catIs(t, filepath.Join(dir, "dirs", esc, "inner"), "inner "+n)
		}
	})

	t.Run("restore", func(t *testing.T) {
		out := e.restore(v)
		for _, sub := range []string{"files", "dirs"} {
			if got := dirNames(t, filepath.Join(out, sub)); !slices.Equal(got, sorted(hostileNames)) {
				t.Errorf("restore %s: names %q, want %q", sub, got, sorted(hostileNames))
			}
		}
		for _, n := range hostileNames {
			readIs(t, filepath.Join(out, "files", n), "file "+n)
			readIs(t, filepath.Join(out, "dirs", n, "inner"), "inner "+n)
		}
	})
}

// dirNames lists a directory's names as raw bytes, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %q: %v", dir, err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return sorted(out)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// catIs runs cat(1) on path and compares its output.
func catIs(t *testing.T, path, want string) {
	t.Helper()
	out, err := exec.Command("cat", path).Output()
	if err != nil {
		t.Errorf("cat %q: %v", path, err)
		return
	}
	if string(out) != want {
		t.Errorf("cat %q: got %q, want %q", path, out, want)
	}
}

func readIs(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %q: %v", path, err)
		return
	}
	if string(b) != want {
		t.Errorf("read %q: got %q, want %q", path, b, want)
	}
}
