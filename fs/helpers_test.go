package fs

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// The fixture's objects and version times.
var (
	orders  = index.ObjectRef{Cluster: "prod-cass", Database: "shop", Table: "orders"}
	users   = index.ObjectRef{Cluster: "fs1", Database: "home", Table: "users"}
	alice   = index.ObjectRef{Cluster: "fs1", Database: "home", Table: "users/alice"}
	hostile = index.ObjectRef{Cluster: "clu\x01ster", Database: "db/x", Table: ".."}
)

const (
	t1 = "2026-11-24T10:00:00Z"
	t2 = "2026-11-24T12:00:00Z"
	t3 = "2026-11-25T08:00:00Z"
)

// aMtime has a sub-second part, to check times are shown exactly.
var aMtime = time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)

// hostileNames are raw file names a source might give.
var hostileNames = []string{
	"..", ".", "a\nb", "\xff\xfe", strings.Repeat("x", 300), strings.Repeat("é", 200),
	"%41", "tab\tname", "back\\slash", "\x7f", "ok name",
}

// bigData is dir/b.bin: large enough for many FUSE reads.
var bigData = func() string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 3<<20+12345)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return string(b)
}()

// fixture returns a catalog with three versions of orders, nested tables
// and an object whose names are all hostile.
func fixture() *fakeCatalog {
	c := newFakeCatalog()
	c.add(orders, t1,
		fakeFile{path: "a.txt", data: "hello\n", mode: 0o640, mtime: aMtime},
		fakeFile{path: "dir/b.bin", data: bigData, mode: 0o600},
		fakeFile{path: "dir/sub", dir: true, mode: 0o750},
		fakeFile{path: "link", target: "a.txt", mode: 0o777})
	c.add(orders, t2,
		fakeFile{path: "a.txt", data: "hello world\n", mode: 0o640, mtime: aMtime.Add(time.Hour)},
		fakeFile{path: "dir/b.bin", data: bigData, mode: 0o600},
		fakeFile{path: "dir/sub", dir: true, mode: 0o750},
		fakeFile{path: "c.txt", data: "new\n"},
		fakeFile{path: "nl\nname", data: "x"},
		fakeFile{path: "link", target: "a.txt", mode: 0o777})
	c.add(orders, t3,
		fakeFile{path: "a.txt", data: "hello world\n", mode: 0o640, mtime: aMtime.Add(time.Hour)},
		fakeFile{path: "c.txt", data: "new\n"},
		fakeFile{path: "link", target: "a.txt", mode: 0o777})
	c.add(users, t1, fakeFile{path: "u.txt", data: "users\n"})
	c.add(alice, t2, fakeFile{path: "notes/todo.txt", data: "alice\n"})
	var files []fakeFile
	for _, n := range hostileNames {
		files = append(files, fakeFile{path: n, data: n}, fakeFile{path: "d/" + n, data: "deep " + n})
	}
	c.add(hostile, t1, files...)
	return c
}

// mountTest mounts cat in a temporary directory until the test ends.
func mountTest(t testing.TB, cat Catalog) string {
	t.Helper()
	return mountTestWith(t, cat, Options{})
}

// mountTestWith is mountTest with options (the Logger is the test's).
func mountTestWith(t testing.TB, cat Catalog, o Options) string {
	t.Helper()
	dir := t.TempDir()
	m := mountInWith(t, context.Background(), dir, cat, o)
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("Unmount: %v", err)
		}
	})
	return dir
}

// mountIn mounts cat at dir. A machine that cannot mount FUSE skips the
// test, or fails it under CI.
func mountIn(t testing.TB, ctx context.Context, dir string, cat Catalog) *Mounted {
	t.Helper()
	return mountInWith(t, ctx, dir, cat, Options{})
}

func mountInWith(t testing.TB, ctx context.Context, dir string, cat Catalog, o Options) *Mounted {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		harness.Unavailable(t, "FUSE: %v", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.Logger = log
	m, err := Mount(ctx, dir, cat, o)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) ||
			strings.Contains(err.Error(), "fusermount") || strings.Contains(err.Error(), "permission") {
			harness.Unavailable(t, "mount FUSE: %v", err)
		}
		t.Fatalf("Mount: %v", err)
	}
	return m
}

// names lists a directory's names, sorted.
func names(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	slices.Sort(out)
	return out
}

// wantErrno fails unless err is the errno want.
func wantErrno(t testing.TB, what string, err error, want syscall.Errno) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: got %v, want %v", what, err, want)
	}
}

func tablePath(mnt string, o index.ObjectRef, rest ...string) string {
	return filepath.Join(append([]string{mnt, o.Cluster, o.Database, o.Table}, rest...)...)
}
