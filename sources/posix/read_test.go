package posix

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// The reader reads a file's bytes and reports the end at the size the
// file had at open, honours an empty read as io.Reader says, and fails
// with errChanged when the file was written to in between.
func TestCheckedReader(t *testing.T) {
	open := func(t *testing.T, data string) (*checkedReader, string) {
		t.Helper()
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		fd, st, err := openFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		return &checkedReader{fd: fd, name: path, open: *st}, path
	}
	t.Run("whole", func(t *testing.T) {
		r, _ := open(t, "hello, world")
		if n, err := r.Read(nil); n != 0 || err != nil {
			t.Fatalf("empty read: %d, %v; want 0, nil", n, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != "hello, world" || r.n != 12 {
			t.Fatalf("read %q (%d counted), %v; want the file and io.EOF", got, r.n, err)
		}
	})
	t.Run("written between", func(t *testing.T) {
		r, path := open(t, "hello, world")
		buf := make([]byte, 5)
		if _, err := r.Read(buf); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("HELLO, world"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(r); !errors.Is(err, errChanged) {
			t.Fatalf("read after a same-size rewrite: %v, want errChanged", err)
		}
	})
	t.Run("ranges", func(t *testing.T) {
		r, _ := open(t, "hello, world")
		got := make([]byte, 12)
		if n, err := r.ReadAt(got[7:], 7); n != 5 || err != nil {
			t.Fatalf("ReadAt the end: %d, %v", n, err)
		}
		if n, err := r.ReadAt(got[:7], 0); n != 7 || err != nil {
			t.Fatalf("ReadAt the start: %d, %v", n, err)
		}
		if string(got) != "hello, world" {
			t.Fatalf("ranges read %q", got)
		}
		if err := r.ReadAtDone(12); err != nil || r.n != 12 || r.changed {
			t.Fatalf("ReadAtDone after every byte: %v (%d counted, changed %v)", err, r.n, r.changed)
		}
		if n, err := r.ReadAt(make([]byte, 4), 10); n != 2 || err != io.EOF {
			t.Fatalf("ReadAt past the end: %d, %v; want 2, io.EOF", n, err)
		}
	})
	t.Run("ranges written between", func(t *testing.T) {
		r, path := open(t, "hello, world")
		if _, err := r.ReadAt(make([]byte, 12), 0); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("hello, world!"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := r.ReadAtDone(12); !errors.Is(err, errChanged) || !r.changed {
			t.Fatalf("ReadAtDone after an append: %v (changed %v), want errChanged", err, r.changed)
		}
	})
	t.Run("ranges short", func(t *testing.T) {
		r, _ := open(t, "hello, world")
		if err := r.ReadAtDone(11); !errors.Is(err, errChanged) {
			t.Fatalf("ReadAtDone with a byte unread: %v, want errChanged", err)
		}
	})
}
