package fs

import (
	"os"
	"path/filepath"
	"strings"

	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// recorder is a prefetcher that notes what it was asked for.
type recorder struct {
	mu    sync.Mutex
	paths []string
}

func (r *recorder) PrefetchFiles(_ context.Context, files []index.File) {
	r.mu.Lock()
	r.paths = append(r.paths, paths(files)...)
	r.mu.Unlock()
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.paths)
}

// listing is a loaded directory of n entries: every fifth a
// subdirectory, every seventh an empty file (no chunks), each file of
// size bytes.
func listing(n int, size int64) *vdir {
	d := &vdir{loaded: true}
	for i := range n {
		f := index.File{Entry: sources.Entry{Path: fmt.Sprintf("f%03d", i), Type: sources.TypeFile, Size: size}}
		switch {
		case i%5 == 4:
			f.Type = sources.TypeDir
		case i%7 == 6:
			f.Size = 0
		default:
			f.Chunks = []index.ChunkRef{{}}
		}
		d.list = append(d.list, f)
	}
	return d
}

func paths(fs []index.File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Path)
	}
	return out
}

func queuedPaths(q []queued) []string {
	var out []string
	for _, e := range q {
		out = append(out, e.f.Path)
	}
	return out
}

func TestFollowingWindow(t *testing.T) {
	d := listing(100, 1000)
	first := queuedPaths(d.following(0))
	// Entries 1..32, without directories (4, 9, ...) and empty files (6, 13, ...).
	var want []string
	for i := 1; i <= prefetchFiles; i++ {
		if i%5 != 4 && i%7 != 6 {
			want = append(want, fmt.Sprintf("f%03d", i))
		}
	}
	if !slices.Equal(first, want) {
		t.Fatalf("following(0) = %v, want %v", first, want)
	}
	// Reading on: only the entries not queued before.
	next := queuedPaths(d.following(3))
	if !slices.Equal(next, []string{"f033", "f035"}) {
		t.Fatalf("following(3) = %v, want [f033 f035]", next)
	}
	if again := d.following(3); len(again) != 0 {
		t.Fatalf("following(3) again = %v, want nothing", queuedPaths(again))
	}
	if last := d.following(99); len(last) != 0 {
		t.Fatalf("following(last) = %v, want nothing", queuedPaths(last))
	}
	// A window ends at prefetchBytes of content.
	big := listing(100, prefetchBytes/2)
	if got := queuedPaths(big.following(0)); !slices.Equal(got, []string{"f001", "f002"}) {
		t.Fatalf("following(0) of 2 MiB files = %v, want [f001 f002]", got)
	}
	// An unloaded listing offers nothing.
	if got := (&vdir{}).following(0); got != nil {
		t.Fatalf("unloaded following = %v", queuedPaths(got))
	}
}

func TestPrefetchQueue(t *testing.T) {
	r := &recorder{}
	tr := &tree{prefetch: &fileQueue{p: r}}
	d := listing(10, 10)
	tr.prefetchAfter(d, 0)
	tr.prefetchAfter(d, -1) // a file looked up alone: nothing
	tr.prefetchAfter(nil, 3)
	want := []string{"f001", "f002", "f003", "f005", "f007", "f008"}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := r.got()
		slices.Sort(got)
		if slices.Equal(got, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("prefetched %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The workers end when the queue is empty.
	for {
		tr.prefetch.mu.Lock()
		running := tr.prefetch.workers.running
		tr.prefetch.mu.Unlock()
		if running == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d prefetch workers still running with nothing queued", running)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pushCatalog is the fake catalog with a no-op prefetcher, counting the
// reads of each file's content.
type pushCatalog struct {
	*fakeCatalog
	mu    sync.Mutex
	reads map[string]int
}

func (c *pushCatalog) PrefetchFiles(context.Context, []index.File) {}

func (c *pushCatalog) OpenFile(f index.File) FileReader {
	return &countedReader{FileReader: c.fakeCatalog.OpenFile(f), c: c, path: f.Path}
}

func (c *pushCatalog) readsOf(p string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads[p]
}

type countedReader struct {
	FileReader
	c    *pushCatalog
	path string
}

func (r *countedReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	r.c.mu.Lock()
	r.c.reads[r.path]++
	r.c.mu.Unlock()
	return r.FileReader.ReadAt(ctx, p, off)
}

// TestPrefetchPushesToPageCache reads the first file of a directory and
// checks that the files after it are then read from the page cache
// without a read reaching the daemon, except the one ending a window,
// whose read queues the next.
func TestPrefetchPushesToPageCache(t *testing.T) {
	for _, m := range readModes {
		t.Run(m.name, func(t *testing.T) {
			c := &pushCatalog{fakeCatalog: newFakeCatalog(), reads: map[string]int{}}
			const n = prefetchFiles + 8
			var files []fakeFile
			want := map[string]string{}
			for i := range n {
				p := fmt.Sprintf("many/f%02d", i)
				want[p] = strings.Repeat(fmt.Sprintf("content of %s;", p), 1+i*50) // up to ~40 KiB: many pages
				files = append(files, fakeFile{path: p, data: want[p]})
			}
			c.add(orders, t1, files...)
			dir := t.TempDir()
			mnt := mountInWith(t, context.Background(), dir, c, m.o)
			t.Cleanup(func() {
				if err := mnt.Unmount(); err != nil {
					t.Errorf("Unmount: %v", err)
				}
			})
			base := tablePath(dir, orders, t1)
			ents, err := os.ReadDir(filepath.Join(base, "many"))
			if err != nil || len(ents) != n {
				t.Fatalf("ReadDir many: %d entries, %v", len(ents), err)
			}
			for _, e := range ents { // the kernel knows every file
				if _, err := e.Info(); err != nil {
					t.Fatal(err)
				}
			}
			read := func(i int) {
				t.Helper()
				p := fmt.Sprintf("many/f%02d", i)
				got, err := os.ReadFile(filepath.Join(base, p))
				if err != nil || string(got) != want[p] {
					t.Fatalf("%s: read %d bytes, %v; want %d bytes equal", p, len(got), err, len(want[p]))
				}
			}
			idle := func() {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for {
					q := mnt.tree.prefetch
					q.mu.Lock()
					busy := q.workers.running > 0 || len(q.queue) > 0
					q.mu.Unlock()
					if !busy {
						return
					}
					if time.Now().After(deadline) {
						t.Fatal("prefetch still busy after 10 s")
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			// A pushed file was read once (by the push) before it is
			// read, and not again after.
			pushed := func(i int) {
				t.Helper()
				p := fmt.Sprintf("many/f%02d", i)
				if r := c.readsOf(p); r != 1 {
					t.Errorf("%s: %d reads before it was read, want 1 (its push)", p, r)
				}
				read(i)
				if r := c.readsOf(p); r != 1 {
					t.Errorf("%s: %d reads reached the daemon after its push", p, r-1)
				}
			}
			read(0)
			idle()
			for i := 1; i < prefetchFiles; i++ {
				pushed(i)
			}
			// The window's last file was not pushed: its read comes to
			// the daemon and queues the rest of the directory.
			last := fmt.Sprintf("many/f%02d", prefetchFiles)
			if r := c.readsOf(last); r != 0 {
				t.Errorf("%s (a window's last) was read %d times before it was read, want 0", last, r)
			}
			read(prefetchFiles)
			idle()
			for i := prefetchFiles + 1; i < n; i++ {
				pushed(i)
			}
		})
	}
}
