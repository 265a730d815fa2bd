package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
)

// linkTree builds a source with hard links, symlinks whose targets hold
// invalid UTF-8, '%', control characters and a name that the mount
// shortens, and returns the groups of paths that are one file.
func linkTree(t *testing.T, src string) [][]string {
	t.Helper()
	long := strings.Repeat("\xff", 120) // escaped: 360 bytes, shortened
	files := map[string]string{
		"a": "first file", "b": "three names", "raw\xff/x": "under a raw name",
		"pct%/y": "under a percent", "ctl\x01name": "control", long: "long raw name",
	}
	writeFiles(t, src, files)
	groups := [][]string{{"a", "sub/a-link"}, {"b", "b2", "deep/er/b3"}}
	for _, g := range groups {
		for _, p := range g[1:] {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(src, p)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(filepath.Join(src, g[0]), filepath.Join(src, p)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, target := range map[string]string{
		"to-raw": "raw\xff/x", "to-pct": "pct%/y", "to-ctl": "ctl\x01name", "to-long": long,
		"sub/up-raw": "../raw\xff/x", "to-abs": "/nonexistent/\xff",
	} {
		if err := os.Symlink(target, filepath.Join(src, name)); err != nil {
			t.Fatal(err)
		}
	}
	return groups
}

// escapedPath is where a raw path of a version shows on the mount.
func escapedPath(raw string) string { return sources.EscapePath(raw) }

func TestHardLinksAndRawSymlinks(t *testing.T) {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		harness.Unavailable(t, "rsync is not installed (integration/install-deps.sh installs it)")
	}
	e := newEnv(t)
	src := e.path("src")
	groups := linkTree(t, src)
	v := e.backup("links", src)
	dir := versionDir(e.mount(), v)

	// Every link that resolves in the source resolves on the mount.
	for _, name := range []string{"to-raw", "to-pct", "to-ctl", "to-long", "sub/up-raw"} {
		want, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(dir, escapedPath(name)))
		if err != nil || string(got) != string(want) {
			t.Errorf("through the mount's %s: %q, %v; want %q", name, got, err, want)
		}
	}
	checkLinked(t, "mount", dir, groups, escapedPath)

	out := e.path("rsynced")
	if b, err := exec.Command(rsync, "-aH", "--checksum", dir+"/", out+"/").CombinedOutput(); err != nil {
		t.Fatalf("rsync -aH: %v\n%s", err, b)
	}
	checkLinked(t, "rsync -aH of the mount", out, groups, escapedPath)
	mounted := treeSums(t, dir)
	delete(mounted, ".")
	rsynced := treeSums(t, out)
	delete(rsynced, ".")
	sameTree(t, "rsync -aH of the mount", mounted, rsynced)

	restored := e.restore(v)
	sameTree(t, "strata restore", treeSums(t, src), treeSums(t, restored))
	checkLinked(t, "strata restore", restored, groups, func(p string) string { return p })
}

// checkLinked fails unless each group's paths (mapped by name) are one
// inode with a link count of the group's size.
func checkLinked(t *testing.T, what, root string, groups [][]string, name func(string) string) {
	t.Helper()
	for _, g := range groups {
		var first *syscall.Stat_t
		for _, p := range g {
			fi, err := os.Lstat(filepath.Join(root, name(p)))
			if err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			st := fi.Sys().(*syscall.Stat_t)
			if int(st.Nlink) != len(g) {
				t.Errorf("%s: %s has %d links, want %d", what, p, st.Nlink, len(g))
			}
			if first == nil {
				first = st
			} else if st.Ino != first.Ino {
				t.Errorf("%s: %s is not the same inode as %s", what, p, g[0])
			}
		}
	}
}
