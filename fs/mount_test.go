package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/integration/harness"
)

func TestMountIsReadOnlyAndTuned(t *testing.T) {
	mnt := mountTest(t, fixture())
	var sfs unix.Statfs_t
	if err := unix.Statfs(mnt, &sfs); err != nil {
		t.Fatal(err)
	}
	if sfs.Flags&unix.ST_RDONLY == 0 {
		t.Errorf("mount flags %#x lack ST_RDONLY", sfs.Flags)
	}
	if os.Geteuid() != 0 {
		return // raising the read-ahead needs root
	}
	var st unix.Stat_t
	if err := unix.Stat(mnt, &st); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev)))
	if err != nil || strings.TrimSpace(string(b)) != "1024" {
		t.Errorf("read_ahead_kb = %q, %v; want 1024", b, err)
	}
}

func TestUnmountOnCancel(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	m := mountIn(t, ctx, dir, fixture())
	cancel()
	m.Wait()
	var sfs unix.Statfs_t
	if err := unix.Statfs(dir, &sfs); err != nil {
		t.Fatal(err)
	}
	if sfs.Type == 0x65735546 { // FUSE_SUPER_MAGIC
		t.Error("still mounted after the context was cancelled")
	}
	if err := m.Unmount(); err != nil {
		t.Errorf("Unmount after cancel: %v", err)
	}
}

// TestAllowOtherEnforcesModes: with AllowOther, another user (nobody,
// uid 65534) reads a 0644 file but is refused a 0600 root-owned one, as
// the kernel enforces the shown modes (default_permissions). As root the
// test opens the files with its filesystem uid set to nobody's, on a
// locked thread, relative to the mount opened as root (the temporary
// directories above it are 0700).
func TestAllowOtherEnforcesModes(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Unavailable(t, "reading as another user needs root")
	}
	c := newFakeCatalog()
	c.add(orders, t1,
		fakeFile{path: "public", data: "for everyone\n", mode: 0o644},
		fakeFile{path: "shadow", data: "root:secret\n", mode: 0o600})
	mnt := mountTestWith(t, c, Options{AllowOther: true})
	dir, err := unix.Open(tablePath(mnt, orders, t1), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	read := func(name string) (string, error) {
		fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return "", err
		}
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		b, err := io.ReadAll(f)
		return string(b), err
	}
	type result struct {
		data string
		err  error
	}
	got := map[string]result{}
	ok := func() bool {
		runtime.LockOSThread()
		if err := unix.Setfsuid(65534); err != nil {
			runtime.UnlockOSThread()
			harness.Unavailable(t, "setfsuid(65534): %v", err)
		}
		if prev, _ := unix.SetfsuidRetUid(-1); prev != 65534 {
			return false // the thread ends with the test's goroutine
		}
		for _, n := range []string{"public", "shadow"} {
			d, err := read(n)
			got[n] = result{d, err}
		}
		if err := unix.Setfsuid(0); err != nil {
			return false
		}
		if prev, _ := unix.SetfsuidRetUid(-1); prev != 0 {
			return false
		}
		runtime.UnlockOSThread()
		return true
	}()
	if !ok {
		t.Fatal("setfsuid did not take effect, or could not be undone")
	}
	if r := got["public"]; r.err != nil || r.data != "for everyone\n" {
		t.Fatalf("nobody reading the 0644 file: %q, %v; want it read (else the check below proves nothing)", r.data, r.err)
	}
	if r := got["shadow"]; !errors.Is(r.err, unix.EACCES) {
		t.Errorf("nobody reading the 0600 root-owned file: %q, %v; want EACCES", r.data, r.err)
	}
	if d, err := read("shadow"); err != nil || d != "root:secret\n" {
		t.Errorf("root reading the 0600 file: %q, %v", d, err)
	}
}
