package fs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// readerCatalog opens readers of a file's path as content and counts
// the readers open.
type readerCatalog struct {
	Catalog
	open atomic.Int64
}

func (c *readerCatalog) OpenFile(f index.File) FileReader {
	c.open.Add(1)
	return &readerCounter{c: c, data: f.Path}
}

type readerCounter struct {
	c      *readerCatalog
	data   string
	closed bool
}

func (r *readerCounter) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	if r.closed {
		return 0, fmt.Errorf("read after close")
	}
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	return copy(p, r.data[off:]), nil
}

func (r *readerCounter) Close() error {
	r.closed = true
	r.c.open.Add(-1)
	return nil
}

// Handle-less reads keep at most maxNodeReaders readers open, read right
// after an eviction, and close a forgotten file's reader.
func TestNodeReadersBounded(t *testing.T) {
	cat := &readerCatalog{}
	tr := newTree(cat, slog.New(slog.DiscardHandler), owner{})
	nodes := make([]*fileNode, 3*maxNodeReaders)
	for i := range nodes {
		nodes[i] = &fileNode{t: tr, f: index.File{Entry: sources.Entry{Path: fmt.Sprintf("file-%03d", i)}}}
	}
	ctx := context.Background()
	for round := range 2 {
		for _, n := range nodes {
			buf := make([]byte, 64)
			k, err := tr.readers.readAt(ctx, n, buf, 0)
			if err != nil || string(buf[:k]) != n.f.Path {
				t.Fatalf("round %d: %s reads %q, %v", round, n.f.Path, buf[:k], err)
			}
		}
		if got := cat.open.Load(); got != maxNodeReaders {
			t.Fatalf("round %d: %d readers open; want %d", round, got, maxNodeReaders)
		}
	}
	for _, n := range nodes {
		n.OnForget()
	}
	if got := cat.open.Load(); got != 0 {
		t.Fatalf("%d readers open after every file was forgotten", got)
	}
}
