package posix

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// discardWriter reads and drops content, remembering only fingerprints so
// that it can serve as the previous version of the next run.
type discardWriter struct {
	mu   sync.Mutex
	prev mapPrevious
}

func (w *discardWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if r != nil {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	}
	w.remember(e)
	return nil
}

func (w *discardWriter) AddSpans(context.Context, sources.Entry, func() (sources.Span, error)) error {
	return fmt.Errorf("posix does not use AddSpans")
}

func (w *discardWriter) Report(sources.Event) {}

func (w *discardWriter) Keep(ctx context.Context, e sources.Entry) error {
	w.remember(e)
	return nil
}

func (w *discardWriter) remember(e sources.Entry) {
	w.mu.Lock()
	w.prev[e.Path] = e
	w.mu.Unlock()
}

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
	prev := &discardWriter{prev: mapPrevious{}}
	if _, err := s.Backup(context.Background(), obj, nil, prev); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		prev sources.Previous
	}{{"read", nil}, {"unchanged", prev.prev}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				w := &discardWriter{prev: make(mapPrevious, n+n/1000)}
				if _, err := s.Backup(context.Background(), obj, c.prev, w); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "files/s")
		})
	}
}
