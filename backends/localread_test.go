package backends_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stratabackup/strata/backends"
)

// ReadUpTo on local disk reads what Get reads, stops at the object's end,
// names a missing object with ErrNotFound, and reaches through the retry
// wrapper; a backend that is not local says so (ok false).
func TestReadUpTo(t *testing.T) {
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789"), 100)
	if err := be.Put(ctx, "packs/ab/x", data); err != nil {
		t.Fatal(err)
	}
	lr, ok := be.(backends.LocalReader)
	if !ok {
		t.Fatalf("%T is not a LocalReader", be)
	}
	for _, c := range []struct {
		off      int64
		n, wantN int
	}{{0, 10, 10}, {995, 10, 5}, {1000, 10, 0}, {2000, 10, 0}, {3, 0, 0}} {
		for name, read := range map[string]func(context.Context, string, int64, int) ([]byte, bool, error){"ReadUpTo": lr.ReadUpTo, "ReadAround": lr.ReadAround} {
			got, ok, err := read(ctx, "packs/ab/x", c.off, c.n)
			if err != nil || !ok || len(got) != c.wantN || !bytes.Equal(got, data[min(c.off, 1000):min(c.off, 1000)+int64(c.wantN)]) {
				t.Errorf("%s(%d, %d) = %q, %v, %v; want %d bytes", name, c.off, c.n, got, ok, err, c.wantN)
			}
		}
	}
	if _, _, err := lr.ReadUpTo(ctx, "packs/ab/missing", 0, 10); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("missing object: %v; want ErrNotFound", err)
	}
	if _, _, err := lr.ReadAround(ctx, "packs/ab/missing", 0, 10); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("missing object read around the cache: %v; want ErrNotFound", err)
	}
	if _, _, err := lr.ReadUpTo(ctx, "../escape", 0, 10); err == nil {
		t.Error("a name outside the store was read")
	}
	mem, err := backends.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	if lr, ok := mem.(backends.LocalReader); ok {
		if _, ok, err := lr.ReadUpTo(ctx, "x", 0, 1); ok || err != nil {
			t.Errorf("a memory backend claims a local read: %v, %v", ok, err)
		}
	}
}
