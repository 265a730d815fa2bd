package posix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// makeSmallFiles creates n files of 100 bytes in directories of 1000.
func makeSmallFiles(b *testing.B, root string, n int) {
	data := make([]byte, 100)
	for i := range n {
		dir := filepath.Join(root, fmt.Sprintf("d%03d", i/1000))
		if i%1000 == 0 {
			if err := os.Mkdir(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%06d", i)), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBackup100k walks 100,000 small files: "read" opens and reads
// every file (a first backup), "unchanged" only lstats them (every file
// kept by fingerprint).
func BenchmarkBackup100k(b *testing.B) {
	const n = 100_000
	root := b.TempDir()
	makeSmallFiles(b, root, n)
	s, err := New(Config{Cluster: "c", Database: "d", Roots: map[string]string{"t": root}})
	if err != nil {
		b.Fatal(err)
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	first := sourcetest.NewWriter(nil)
	if _, err := s.Backup(context.Background(), obj, nil, first); err != nil {
		b.Fatal(err)
	}
	prev := first.Version()
	for _, c := range []struct {
		name string
		prev *sourcetest.Version // nil: a first backup
	}{{"read", nil}, {"unchanged", prev}} {
		b.Run(c.name, func(b *testing.B) {
			var p sources.Previous = sources.NoPrevious{}
			if c.prev != nil {
				p = c.prev
			}
			for b.Loop() {
				w := sourcetest.NewWriter(c.prev)
				if _, err := s.Backup(context.Background(), obj, p, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
