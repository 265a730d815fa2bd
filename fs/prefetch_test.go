package fs

import (
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

func TestFollowingWindow(t *testing.T) {
	d := listing(100, 1000)
	first := paths(d.following(0))
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
	next := paths(d.following(3))
	if !slices.Equal(next, []string{"f033", "f035"}) {
		t.Fatalf("following(3) = %v, want [f033 f035]", next)
	}
	if again := d.following(3); len(again) != 0 {
		t.Fatalf("following(3) again = %v, want nothing", paths(again))
	}
	if last := d.following(99); len(last) != 0 {
		t.Fatalf("following(last) = %v, want nothing", paths(last))
	}
	// A window ends at prefetchBytes of content.
	big := listing(100, prefetchBytes/2)
	if got := paths(big.following(0)); !slices.Equal(got, []string{"f001", "f002"}) {
		t.Fatalf("following(0) of 2 MiB files = %v, want [f001 f002]", got)
	}
	// An unloaded listing offers nothing.
	if got := (&vdir{}).following(0); got != nil {
		t.Fatalf("unloaded following = %v", paths(got))
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
		running := tr.prefetch.running
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
