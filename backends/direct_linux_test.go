package backends

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// readDirect returns exactly the bytes asked for, wherever they start and
// end against the 4 KiB blocks O_DIRECT reads, short at the file's end and
// none past it; the bytes come from disk even when the page cache holds
// newer ones not yet written (the kernel writes them first).
func TestReadDirect(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pack")
	data := make([]byte, 3*directAlign+123)
	for i := range data {
		data[i] = byte(rand.IntN(256))
	}
	if err := os.WriteFile(p, data, 0o644); err != nil { // in the page cache, dirty
		t.Fatal(err)
	}
	if _, err := readDirect(p, 0, 1); errors.Is(err, errDirectRefused) {
		t.Skipf("the filesystem of %s has no O_DIRECT; ReadAround reads through the cache there", p)
	}
	size := int64(len(data))
	for _, c := range []struct {
		off int64
		n   int
	}{
		{0, 1}, {0, directAlign}, {1, directAlign}, {directAlign - 1, 2}, {directAlign, directAlign},
		{100, 2*directAlign + 50}, {size - 10, 10}, {size - 10, 100}, {size, 10}, {size + directAlign, 10}, {5, 0},
	} {
		got, err := readDirect(p, c.off, c.n)
		lo := min(c.off, size)
		want := data[lo:min(lo+int64(c.n), size)]
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("readDirect(%d, %d) = %d bytes, %v; want %d bytes", c.off, c.n, len(got), err, len(want))
		}
	}
	if _, err := readDirect(filepath.Join(filepath.Dir(p), "missing"), 0, 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v; want os.ErrNotExist", err)
	}
}
