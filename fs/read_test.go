package fs

import (
	"io"
	"math/rand/v2"
	"os"
	"testing"
)

// readModes are the two ways files are opened: without the daemon where
// the kernel can (no-open), and with a handle per open elsewhere.
var readModes = []struct {
	name string
	o    Options
}{{"no-open", Options{}}, {"handles", Options{handles: true}}}

func TestReadWhole(t *testing.T) {
	for _, m := range readModes {
		t.Run(m.name, func(t *testing.T) { testReadWhole(t, mountTestWith(t, fixture(), m.o)) })
	}
}

func testReadWhole(t *testing.T, mnt string) {
	for path, want := range map[string]string{
		t1 + "/a.txt":     "hello\n",
		t2 + "/a.txt":     "hello world\n",
		t1 + "/dir/b.bin": bigData,
		t1 + "/link":      "hello\n",
		"latest/c.txt":    "new\n",
	} {
		got, err := os.ReadFile(tablePath(mnt, orders, path))
		if err != nil || string(got) != want {
			t.Errorf("%s: read %d bytes, %v; want %d bytes equal", path, len(got), err, len(want))
		}
	}
	if got, err := os.Readlink(tablePath(mnt, orders, t1, "link")); err != nil || got != "a.txt" {
		t.Errorf("Readlink link = %q, %v", got, err)
	}
}

func TestRandomReads(t *testing.T) {
	for _, m := range readModes {
		t.Run(m.name, func(t *testing.T) { testRandomReads(t, mountTestWith(t, fixture(), m.o)) })
	}
}

func testRandomReads(t *testing.T, mnt string) {
	f, err := os.Open(tablePath(mnt, orders, t1, "dir/b.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		off := r.Int64N(int64(len(bigData)) + 100)
		n := r.IntN(300_000)
		buf := make([]byte, n)
		var got int
		if i%2 == 0 {
			got, err = f.ReadAt(buf, off)
		} else {
			if _, err = f.Seek(off, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadFull(f, buf)
		}
		end := min(off+int64(n), int64(len(bigData)))
		want := ""
		if off < end {
			want = bigData[off:end]
		}
		if string(buf[:got]) != want {
			t.Fatalf("read %d at %d: got %d bytes, want %d equal (%v)", n, off, got, len(want), err)
		}
		if got < n && err == nil {
			t.Fatalf("short read at %d without error", off)
		}
	}
}
