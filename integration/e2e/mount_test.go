package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// mountWait bounds how long a mount may take to appear or to go away; it
// is a deadline for a hung process, not an assertion on speed.
const mountWait = 60 * time.Second

// mount runs `strata mount` in the background on a fresh directory, waits
// until it is mounted and its root lists, and returns the mount point. The
// cleanup sends SIGTERM and waits; if the process does not exit it falls
// back to `umount -l`. Without /dev/fuse or permission to mount the test
// is skipped (failed under CI=true).
func (e *env) mount() string {
	e.t.Helper()
	mp, _ := e.mountWith()
	return mp
}

// mountWith is mount with extra flags; it also returns the process, whose
// output can be read once it has exited.
func (e *env) mountWith(flags ...string) (string, *bgCmd) {
	e.t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		harness.Unavailable(e.t, "/dev/fuse: %v", err)
	}
	mp, err := os.MkdirTemp(e.root, "mnt-")
	if err != nil {
		e.t.Fatal(err)
	}
	// --quiet is already passed by cmd; --refresh short so that nothing
	// depends on the default.
	b := e.start(append(append([]string{"mount", "--refresh", "1s"}, flags...), mp)...)
	e.t.Cleanup(func() { unmount(e.t, b, mp) })
	deadline := time.Now().Add(mountWait)
	for !isMounted(mp) {
		if b.exited() {
			r := b.wait()
			if permissionProblem(r.stderr) {
				harness.Unavailable(e.t, "cannot mount FUSE here: %s", strings.TrimSpace(r.stderr))
			}
			e.t.Fatalf("strata mount exited before mounting:\n%s", r)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("strata mount: %s not mounted after %s", mp, mountWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.ReadDir(mp); err != nil {
		e.t.Fatalf("list mount root %s: %v", mp, err)
	}
	return mp, b
}

// TestMountDebugLogsRequests: --debug is for finding out what the kernel
// asks of the mount; it once logged nothing (the mount got no logger).
func TestMountDebugLogsRequests(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "a.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("backup", "posix", "--cluster", "c", "--db", "d", "t="+src)
	mp, b := e.mountWith("--debug")
	data, err := os.ReadFile(filepath.Join(mp, "c", "d", "t", "latest", "a.txt"))
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("read through the mount: %q, %v", data, err)
	}
	unmount(t, b, mp)
	stderr := b.wait().stderr
	for _, op := range []string{"LOOKUP", "READ"} {
		if !strings.Contains(stderr, op) {
			t.Errorf("mount --debug logged no %s request; stderr:\n%.2000s", op, stderr)
		}
	}
}

// versionDir is where a version's files appear under a mount point.
func versionDir(mp string, v index.Version) string {
	return filepath.Join(mp, v.Object.Cluster, v.Object.Database, v.Object.Table, index.TimeName(v.Time))
}

func permissionProblem(stderr string) bool {
	s := strings.ToLower(stderr)
	for _, w := range []string{"permission denied", "operation not permitted", "/dev/fuse", "fusermount"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// isMounted reports whether dir is a mount point: by mountpoint(1) when
// present, else by the device number differing from its parent's.
func isMounted(dir string) bool {
	if p, err := exec.LookPath("mountpoint"); err == nil {
		return exec.Command(p, "-q", dir).Run() == nil
	}
	var a, b syscall.Stat_t
	if syscall.Stat(dir, &a) != nil || syscall.Stat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

func unmount(t *testing.T, b *bgCmd, mp string) {
	if !b.exited() {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-b.done:
		case <-time.After(mountWait):
			t.Errorf("strata mount did not exit on SIGTERM; umount -l %s", mp)
			_ = exec.Command("umount", "-l", mp).Run()
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	}
	if isMounted(mp) {
		t.Errorf("%s still mounted after strata mount exited; umount -l", mp)
		_ = exec.Command("umount", "-l", mp).Run()
	}
	if r := b.wait(); r.code != 0 && !t.Failed() {
		t.Errorf("strata mount exit status:\n%s", r)
	}
}
