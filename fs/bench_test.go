package fs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/index"
)

// BenchmarkLsLR100k runs `ls -lR` over a 100,000-file directory: in a
// fresh mount (cold kernel caches), in a mount already listed (warm), and
// on the local disk for comparison.
func BenchmarkLsLR100k(b *testing.B) {
	const n = 100_000
	cat, obj := largeCatalog(n)
	b.Run("fuse-cold", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			dir := mountBench(b, cat)
			b.StartTimer()
			lsLR(b, tablePath(dir, obj, t1))
		}
	})
	b.Run("fuse-warm", func(b *testing.B) {
		dir := tablePath(mountBench(b, cat), obj, t1)
		lsLR(b, dir)
		for b.Loop() {
			lsLR(b, dir)
		}
	})
	b.Run("local", func(b *testing.B) {
		dir := filepath.Join(b.TempDir(), "many")
		if err := os.Mkdir(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range n {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d", i)), []byte(fmt.Sprint(i)), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		lsLR(b, dir)
		for b.Loop() {
			lsLR(b, dir)
		}
	})
}

func mountBench(b *testing.B, cat Catalog) string {
	b.Helper()
	return mountTest(b, cat)
}

func lsLR(b *testing.B, dir string) {
	b.Helper()
	cmd := exec.Command("ls", "-lR", dir)
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		b.Fatalf("ls -lR %s: %v", dir, err)
	}
}

// BenchmarkSequentialRead reads a 256 MiB file from a fresh mount of the
// in-memory catalog: the cost of the FUSE path itself.
func BenchmarkSequentialRead(b *testing.B) {
	const size = 256 << 20
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i * 7)
	}
	cat := newFakeCatalog()
	obj := index.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	cat.add(obj, t1, fakeFile{path: "f", data: string(data)})
	b.SetBytes(size)
	buf := make([]byte, 1<<20)
	for b.Loop() {
		b.StopTimer()
		f, err := os.Open(tablePath(mountBench(b, cat), obj, t1, "f"))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf); err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
