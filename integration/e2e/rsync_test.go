package e2e

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/integration/harness"
)

// meta is what rsync -a must carry over for one path.
type meta struct {
	mode  fs.FileMode // type, permission, setuid/setgid/sticky bits
	size  int64       // files only
	sum   string      // files: sha256; symlinks: the target
	mtime time.Time
}

// TestRsyncFromMount copies a mounted version with `rsync -a` and compares
// the copy with the source tree: contents, modes (0600, 0755, a 0700 and a
// setgid directory), symlinks and mtimes. rsync sets times with
// nanoseconds, but only whole seconds are required of the copy; the mount
// itself must show the source's exact nanoseconds.
func TestRsyncFromMount(t *testing.T) {
	rsync, err := exec.LookPath("rsync")
	if err != nil {
		harness.Unavailable(t, "rsync is not installed (integration/install-deps.sh installs it)")
	}
	e := newEnv(t)
	src := e.path("src")
	buildModeTree(t, src)
	want := treeMeta(t, src)
	v := e.backup("tree", src)
	dir := versionDir(e.mount(), v)

	// The mount shows the source's metadata exactly (nanoseconds too).
	mounted := treeMeta(t, dir)
	compareMeta(t, "mount", want, mounted, time.Nanosecond)
	if !mounted["."].mtime.Equal(want["."].mtime) {
		t.Errorf("mount: the version directory's mtime %v, want the source directory's %v", mounted["."].mtime, want["."].mtime)
	}

	dst := e.path("rsynced")
	out, err := exec.Command(rsync, "-a", dir+"/", dst+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("rsync -a %s/ %s/: %v\n%s", dir, dst, err, out)
	}
	got := treeMeta(t, dst)
	compareMeta(t, "rsync -a copy", want, got, time.Second)
	ns := 0
	for p, w := range want {
		if g, ok := got[p]; ok && !g.mtime.Equal(w.mtime) {
			ns++
		}
	}
	t.Logf("rsync -a kept nanosecond mtimes on %d of %d paths", len(want)-ns, len(want))
}

// buildModeTree creates files, directories and symlinks with varied modes
// and nanosecond mtimes under root.
func buildModeTree(t *testing.T, root string) {
	t.Helper()
	files := []struct {
		path string
		mode os.FileMode
		size int
	}{
		{"f600", 0o600, 100},
		{"f755", 0o755, 5000},
		{"f644", 0o644, 0},
		{"f400", 0o400, 300 << 10},
		{"big", 0o644, 2<<20 + 3},
		{"dir700/secret", 0o600, 10},
		{"dir755/sub/deep", 0o644, 70000},
		{"setgid/file", 0o664, 1},
	}
	for i, f := range files {
		p := filepath.Join(root, f.path)
		writeFile(t, p, randomBytes(uint64(500+i), f.size))
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"link": "f644", "dangling": "does/not/exist", "abs": "/etc/hostname", "dirlink": "dir755/sub"}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]os.FileMode{"dir700": 0o700, "dir755": 0o755, "dir755/sub": 0o750, "setgid": os.ModeSetgid | 0o775, ".": 0o755}
	for d, m := range dirs {
		if err := os.Chmod(filepath.Join(root, d), m); err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(root, "setgid")); err != nil || fi.Mode()&os.ModeSetgid == 0 {
		t.Logf("cannot set the setgid bit here (%v); the tree has no setgid directory", err)
	}
	// Times last, deepest first, so that creating children does not move
	// a directory's mtime.
	var paths []string
	_ = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	for i := len(paths) - 1; i >= 0; i-- {
		ts := unix.NsecToTimespec(time.Unix(1_700_000_000+int64(i)*3601, int64(123_456_789+i)).UnixNano())
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			t.Fatalf("set times of %s: %v", paths[i], err)
		}
	}
}

// treeMeta lstats every path under root.
func treeMeta(t *testing.T, root string) map[string]meta {
	t.Helper()
	out := map[string]meta{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m := meta{mode: fi.Mode() & (fs.ModeType | fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky), mtime: fi.ModTime()}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			if m.sum, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			m.size = fi.Size()
			m.sum = fileSum(t, p)
		}
		out[rel] = m
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// compareMeta compares two trees' metadata; mtimes are compared truncated
// to prec.
func compareMeta(t *testing.T, what string, want, got map[string]meta, prec time.Duration) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: %q missing", what, p)
			continue
		}
		if g.mode != w.mode {
			t.Errorf("%s: %q: mode %v, want %v", what, p, g.mode, w.mode)
		}
		if g.size != w.size || g.sum != w.sum {
			t.Errorf("%s: %q: content (%d bytes, %s), want (%d bytes, %s)", what, p, g.size, g.sum, w.size, w.sum)
		}
		// The version directory itself carries the source root's mode
		// and mtime too, so `rsync -a --checksum` finds nothing to do.
		if !g.mtime.Truncate(prec).Equal(w.mtime.Truncate(prec)) {
			t.Errorf("%s: %q: mtime %v, want %v (to %v)", what, p, g.mtime, w.mtime, prec)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %q", what, p)
		}
	}
}
