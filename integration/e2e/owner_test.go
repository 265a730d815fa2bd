package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/integration/harness"
)

// ownedFile is one path of TestOwnerRoundTrip's tree and who owns it.
type ownedFile struct {
	path     string
	uid, gid int
	mode     os.FileMode // permission bits, setuid/setgid included
}

// TestOwnerRoundTrip backs up files owned by different users and groups,
// ids only (1234:5678, as from another machine's archive) and a user that
// exists here, and checks that restore as root gives them back and that
// the mount shows them. It needs root: only root can give files away.
func TestOwnerRoundTrip(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Unavailable(t, "owners can only be set and restored as root")
	}
	e := newEnv(t)
	src := e.path("src")
	files := []ownedFile{
		{"ids.txt", 1234, 5678, 0o640},
		{"dir", 2345, 6789, 0o750 | os.ModeSetgid},
		{"dir/suid", 1234, 5678, 0o755 | os.ModeSetuid},
		{"dir/link", 3456, 7890, 0},
		{"root.txt", 0, 0, 0o600},
	}
	if u, err := user.Lookup("nobody"); err == nil {
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		files = append(files, ownedFile{"nobody.txt", uid, gid, 0o644})
	} else {
		t.Logf("no user nobody here (%v): only numeric owners are checked", err)
	}
	makeOwnedTree(t, src, files)
	v := e.backup("owned", src)

	var cfg struct{ Format int }
	data, err := os.ReadFile(filepath.Join(e.store, "config"))
	if err != nil || json.Unmarshal(data, &cfg) != nil || cfg.Format != format.FormatVersion {
		t.Errorf("store config after a backup with owners: format %d (%v), want %d", cfg.Format, err, format.FormatVersion)
	}

	t.Run("restore", func(t *testing.T) {
		re := *e
		re.t = t
		checkOwners(t, "restore", re.restore(v), files, true)
	})
	t.Run("mount", func(t *testing.T) {
		me := *e
		me.t = t
		dir := versionDir(me.mount(), v)
		checkOwners(t, "mount", dir, files, false)
		// What an admin would type.
		if _, err := exec.LookPath("stat"); err == nil {
			out, err := exec.Command("stat", "-c", "%u:%g", filepath.Join(dir, "ids.txt")).CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != "1234:5678" {
				t.Errorf("stat -c %%u:%%g ids.txt through the mount: %q (%v), want 1234:5678", got, err)
			}
		}
	})
}

// makeOwnedTree creates files under root with their owners; the mode is
// set after the chown, which clears setuid and setgid.
func makeOwnedTree(t *testing.T, root string, files []ownedFile) {
	t.Helper()
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		p := filepath.Join(root, f.path)
		var err error
		switch {
		case f.path == "dir":
			err = os.Mkdir(p, 0o700)
		case strings.HasSuffix(f.path, "link"):
			err = os.Symlink("suid", p)
		default:
			err = os.WriteFile(p, []byte("owned by "+strconv.Itoa(f.uid)+"\n"), 0o600)
		}
		if err == nil {
			err = os.Lchown(p, f.uid, f.gid)
		}
		if err == nil && f.mode != 0 {
			err = os.Chmod(p, f.mode)
		}
		if err != nil {
			t.Fatalf("make %s: %v", p, err)
		}
	}
}

// checkOwners fails unless every file under root has its owner (and,
// when modes is set, its mode: a restore must not lose setuid to chown).
func checkOwners(t *testing.T, what, root string, files []ownedFile, modes bool) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(root, f.path)
		fi, err := os.Lstat(p)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if int(st.Uid) != f.uid || int(st.Gid) != f.gid {
			t.Errorf("%s: %s is %d:%d, want %d:%d", what, f.path, st.Uid, st.Gid, f.uid, f.gid)
		}
		perm := fi.Mode() & (os.ModePerm | os.ModeSetuid | os.ModeSetgid | os.ModeSticky)
		if modes && f.mode != 0 && perm != f.mode {
			t.Errorf("%s: %s has mode %v, want %v", what, f.path, perm, f.mode)
		}
	}
}
