package fs

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
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
