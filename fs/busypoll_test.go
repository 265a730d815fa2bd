package fs

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
)

// blockingCatalog's file reads wait until release is closed, telling
// entered first: a read that needs a slow backend.
type blockingCatalog struct {
	*fakeCatalog
	entered chan struct{}
	release chan struct{}
}

func (c *blockingCatalog) OpenFile(f index.File) FileReader {
	return blockingReader{c.fakeCatalog.OpenFile(f), c}
}

type blockingReader struct {
	FileReader
	c *blockingCatalog
}

func (r blockingReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	select {
	case r.c.entered <- struct{}{}:
	default:
	}
	<-r.c.release
	return r.FileReader.ReadAt(ctx, p, off)
}

// TestSlowRequestBlocksNoOther: while one request waits on a slow read,
// others are answered, with busy polling (whose reader handles requests
// itself and adds a reader only when one is slow) and without.
func TestSlowRequestBlocksNoOther(t *testing.T) {
	for _, tc := range []struct {
		name string
		poll time.Duration
	}{{"default", 0}, {"off", -1}, {"long", 50 * time.Millisecond}} {
		t.Run(tc.name, func(t *testing.T) {
			cat := &blockingCatalog{fakeCatalog: fixture(), entered: make(chan struct{}, 1), release: make(chan struct{})}
			mnt := mountTestWith(t, cat, Options{BusyPoll: tc.poll})
			// A failure releases the read, so that the unmount at
			// the end does not wait for it.
			var once sync.Once
			release := func() { once.Do(func() { close(cat.release) }) }
			defer release()
			// Look both paths up first (that lists the objects and
			// versions, which starts readers), then let extra readers
			// end: what is left is what busy polling keeps.
			for _, p := range []string{tablePath(mnt, orders, t1, "a.txt"), tablePath(mnt, orders, t2, "dir")} {
				if _, err := os.Stat(p); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(3*max(tc.poll, DefaultBusyPoll) + 50*time.Millisecond)
			read := make(chan error, 1)
			go func() {
				_, err := os.ReadFile(tablePath(mnt, orders, t1, "a.txt"))
				read <- err
			}()
			select {
			case <-cat.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("the read never reached the catalog")
			}
			listed := make(chan error, 1)
			go func() {
				_, err := os.ReadDir(tablePath(mnt, orders, t2, "dir"))
				listed <- err
			}()
			select {
			case err := <-listed:
				if err != nil {
					t.Fatalf("list while a read waits: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a listing waited for a slow read to finish")
			}
			release()
			if err := <-read; err != nil {
				t.Fatalf("read: %v", err)
			}
		})
	}
}
