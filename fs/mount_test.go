package fs

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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
