package fs

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

func TestStatIsTrue(t *testing.T) {
	mnt := mountTest(t, fixture())
	v1 := tablePath(mnt, orders, t1)
	vt, _ := time.Parse(time.RFC3339, t1)
	cases := []struct {
		path  string
		mode  uint32
		size  int64
		mtime time.Time
	}{
		{"a.txt", syscall.S_IFREG | 0o640, 6, aMtime},
		{"dir/b.bin", syscall.S_IFREG | 0o600, int64(len(bigData)), defaultMtime},
		{"dir/sub", syscall.S_IFDIR | 0o750, dirSize, defaultMtime},
		{"link", syscall.S_IFLNK | 0o777, int64(len("a.txt")), defaultMtime},
		{"", syscall.S_IFDIR | 0o755, dirSize, vt},
	}
	for _, c := range cases {
		var st syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(v1, c.path), &st); err != nil {
			t.Errorf("lstat %q: %v", c.path, err)
			continue
		}
		mtime := time.Unix(st.Mtim.Unix())
		if st.Mode != c.mode || st.Size != c.size || !mtime.Equal(c.mtime) {
			t.Errorf("%q: mode %o size %d mtime %v; want %o %d %v", c.path, st.Mode, st.Size, mtime, c.mode, c.size, c.mtime)
		}
		if st.Nlink != 1 || st.Uid != uint32(os.Getuid()) || st.Gid != uint32(os.Getgid()) {
			t.Errorf("%q: nlink %d uid %d gid %d", c.path, st.Nlink, st.Uid, st.Gid)
		}
		if c.mode&syscall.S_IFREG != 0 && st.Blocks*512 < st.Size {
			t.Errorf("%q: %d blocks for %d bytes: du would be wrong", c.path, st.Blocks, st.Size)
		}
	}
}

func TestInodesStable(t *testing.T) {
	cat := fixture()
	a, b := mountTest(t, cat), mountTest(t, cat)
	for _, p := range []string{"a.txt", "dir", "dir/b.bin", "link"} {
		ino := func(mnt, version string) uint64 {
			var st syscall.Stat_t
			if err := syscall.Lstat(tablePath(mnt, orders, version, p), &st); err != nil {
				t.Fatalf("lstat: %v", err)
			}
			return st.Ino
		}
		if ino(a, t1) != ino(b, t1) {
			t.Errorf("%s: inode differs between two mounts", p)
		}
		if ino(a, t1) == ino(a, t2) {
			t.Errorf("%s: versions %s and %s share an inode", p, t1, t2)
		}
	}
	// The inode in the listing is the one stat shows.
	f, err := os.Open(tablePath(a, orders, t1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := syscall.ReadDirent(int(f.Fd()), buf)
	if err != nil {
		t.Fatal(err)
	}
	inos := direntInodes(buf[:n])
	for name, ino := range inos {
		var st syscall.Stat_t
		if err := syscall.Lstat(tablePath(a, orders, t1, name), &st); err != nil || st.Ino != ino {
			t.Errorf("%s: listed inode %d, stat %d (%v)", name, ino, st.Ino, err)
		}
	}
	if len(inos) != 3 {
		t.Errorf("listed %d entries, want 3", len(inos))
	}
}

// direntInodes parses linux_dirent64 records into name → inode.
func direntInodes(buf []byte) map[string]uint64 {
	out := map[string]uint64{}
	for len(buf) >= 19 {
		ino := le64(buf[0:8])
		reclen := int(buf[16]) | int(buf[17])<<8
		name := buf[19:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		if s := string(name); s != "." && s != ".." {
			out[s] = ino
		}
		buf = buf[reclen:]
	}
	return out
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// TestStatShowsOwner checks that the mount shows an entry's recorded
// owner: its ids, else its names resolved here, else the mounting user.
func TestStatShowsOwner(t *testing.T) {
	c := newFakeCatalog()
	v := c.add(orders, t1,
		fakeFile{path: "ids", data: "x"},
		fakeFile{path: "names", data: "x"},
		fakeFile{path: "unknown", data: "x"},
		fakeFile{path: "none", data: "x"},
		fakeFile{path: "dir", dir: true},
		fakeFile{path: "link", target: "ids"})
	own := map[string]*sources.Owner{
		"ids":     {User: "someone-else", Group: "nogroup", UID: 1234, GID: 5678},
		"unknown": {User: "strata-no-such-user", Group: "strata-no-such-group", UID: -1, GID: -1},
		"dir":     {UID: 4321, GID: 8765},
		"link":    {UID: 1111, GID: 2222},
	}
	me := [2]uint32{uint32(os.Getuid()), uint32(os.Getgid())}
	want := map[string][2]uint32{"ids": {1234, 5678}, "unknown": me, "none": me, "dir": {4321, 8765}, "link": {1111, 2222}}
	if u, err := user.Lookup("nobody"); err == nil {
		if g, err := user.LookupGroupId(u.Gid); err == nil {
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(g.Gid)
			own["names"] = &sources.Owner{User: u.Username, Group: g.Name, UID: -1, GID: -1}
			want["names"] = [2]uint32{uint32(uid), uint32(gid)}
		}
	}
	if _, ok := want["names"]; !ok {
		want["names"] = me
	}
	if os.Geteuid() != 0 { // a user's mount shows the user everywhere (see owner)
		for p := range want {
			want[p] = me
		}
	}
	tree := c.files[v.Name]
	for p, o := range own {
		f := tree[p]
		f.Owner = o
		tree[p] = f
	}
	mnt := mountTest(t, c)
	for p, w := range want {
		var st syscall.Stat_t
		if err := syscall.Lstat(tablePath(mnt, orders, t1, p), &st); err != nil {
			t.Errorf("lstat %s: %v", p, err)
			continue
		}
		if st.Uid != w[0] || st.Gid != w[1] {
			t.Errorf("%s (owner %+v): uid %d gid %d, want %d %d", p, own[p], st.Uid, st.Gid, w[0], w[1])
		}
	}
	// The levels above versions stay the mounting user's.
	var st syscall.Stat_t
	if err := syscall.Lstat(tablePath(mnt, orders, t1), &st); err != nil || st.Uid != me[0] || st.Gid != me[1] {
		t.Errorf("version directory: uid %d gid %d (%v), want the mounting user's", st.Uid, st.Gid, err)
	}
}

// TestShownIDCachesLookups checks the name fallback without a mount: a
// name is looked up once, misses included.
func TestShownIDCachesLookups(t *testing.T) {
	calls := map[string]int{}
	ids := &nameIDs{lookup: func(name string) (string, error) {
		calls[name]++
		if name == "alice" {
			return "1001", nil
		}
		return "", user.UnknownUserError(name)
	}}
	for range 3 {
		if id, ok := shownID(-1, "alice", ids); !ok || id != 1001 {
			t.Fatalf("alice: %d %v, want 1001", id, ok)
		}
		if _, ok := shownID(-1, "bob", ids); ok {
			t.Fatal("bob resolved")
		}
		if id, ok := shownID(0, "alice", ids); !ok || id != 0 {
			t.Fatalf("a recorded id 0 (root) gave %d %v", id, ok)
		}
		if _, ok := shownID(-1, "", ids); ok {
			t.Fatal("no name and no id resolved")
		}
	}
	if calls["alice"] != 1 || calls["bob"] != 1 || len(calls) != 2 {
		t.Errorf("lookups %v, want one each for alice and bob", calls)
	}
}

// TestOwnerRecordedOnlyAsRoot: a mount that is not root's shows the
// mounting user for every entry, so its own permission checks never lock
// the user out of a backup of other people's files.
func TestOwnerRecordedOnlyAsRoot(t *testing.T) {
	eo := &sources.Owner{UID: 5, GID: 6}
	for _, tc := range []struct {
		o        owner
		uid, gid uint32
	}{
		{owner{uid: 1, gid: 2, recorded: true}, 5, 6},
		{owner{uid: 1, gid: 2}, 1, 2},
	} {
		if uid, gid := tc.o.ids(eo); uid != tc.uid || gid != tc.gid {
			t.Errorf("%+v.ids(%+v) = %d, %d; want %d, %d", tc.o, eo, uid, gid, tc.uid, tc.gid)
		}
	}
}
