package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stratabackup/strata/index"
)

// countingCatalog counts ReadDir (in all and by directory) and Lookup
// calls and can make reads fail.
type countingCatalog struct {
	*fakeCatalog
	readDirs, lookups atomic.Int64
	readErr           error
	mu                sync.Mutex
	listed            map[string]int
}

func (c *countingCatalog) ReadDir(ctx context.Context, v index.Version, dir string) ([]index.File, error) {
	c.readDirs.Add(1)
	c.mu.Lock()
	if c.listed == nil {
		c.listed = map[string]int{}
	}
	c.listed[dir]++
	c.mu.Unlock()
	return c.fakeCatalog.ReadDir(ctx, v, dir)
}

// listings returns how many times dir was listed.
func (c *countingCatalog) listings(dir string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.listed[dir]
}

func (c *countingCatalog) Lookup(ctx context.Context, v index.Version, p string) (index.File, error) {
	c.lookups.Add(1)
	return c.fakeCatalog.Lookup(ctx, v, p)
}

func (c *countingCatalog) OpenFile(f index.File) FileReader {
	if c.readErr != nil {
		return failingReader{c.readErr}
	}
	return c.fakeCatalog.OpenFile(f)
}

type failingReader struct{ err error }

func (r failingReader) ReadAt(context.Context, []byte, int64) (int, error) { return 0, r.err }
func (r failingReader) Close() error                                       { return nil }

// TestMissIsCheap checks a miss in a large, never listed directory costs
// one catalog lookup and no listing, and that the kernel then remembers it.
func TestMissIsCheap(t *testing.T) {
	fake, obj := largeCatalog(20_000)
	cat := &countingCatalog{fakeCatalog: fake}
	dir := tablePath(mountTest(t, cat), obj, t1, "many")
	for range 3 {
		_, err := os.Lstat(filepath.Join(dir, "nope"))
		wantErrno(t, "lstat nope", err, syscall.ENOENT)
	}
	if n, m := cat.readDirs.Load(), cat.lookups.Load(); n != 0 || m != 2 {
		t.Errorf("%d listings and %d lookups; want 0 and 2 (many, then nope once)", n, m)
	}
	// A bad escape is refused without asking the catalog.
	_, err := os.Lstat(filepath.Join(dir, "bad%zz"))
	wantErrno(t, "lstat bad%zz", err, syscall.ENOENT)
	if m := cat.lookups.Load(); m != 2 {
		t.Errorf("bad escape asked the catalog: %d lookups", m)
	}
}

func TestListedOnce(t *testing.T) {
	cat := &countingCatalog{fakeCatalog: fixture()}
	v := tablePath(mountTest(t, cat), orders, t1)
	for range 3 {
		names(t, v)
		for _, n := range []string{"a.txt", "dir", "link"} {
			if _, err := os.Lstat(filepath.Join(v, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := cat.listings(""); n != 1 {
		t.Errorf("version root listed %d times, want once", n)
	}
}

func TestReadErrorIsEIO(t *testing.T) {
	cat := &countingCatalog{fakeCatalog: fixture(), readErr: errors.New("pack 42: checksum mismatch")}
	_, err := os.ReadFile(tablePath(mountTest(t, cat), orders, t1, "a.txt"))
	wantErrno(t, "read", err, syscall.EIO)
}
