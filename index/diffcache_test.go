package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratabackup/strata/index/lock"
	"github.com/stratabackup/strata/sources"
)

// fakeDiff is a computed diff of known estimated size: heap content
// bytes plus the fixed entry overhead.
func fakeDiff(key string, heap int64) diffValue {
	return diffValue{res: &DiffResult{Version: Version{Name: key}}, memContent: heap}
}

// getCounted returns the diff under key, counting computations in calls.
func getCounted(t *testing.T, c *diffCache, key string, v diffValue, calls map[string]int) *DiffResult {
	t.Helper()
	res, err := c.get(context.Background(), key, func() (diffValue, error) {
		calls[key]++
		return v, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func cachedKeys(c *diffCache) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for e := c.lru.Front(); e != nil; e = e.Next() {
		out = append(out, e.Value.(*flightEntry[string, diffValue]).key)
	}
	return out
}

// The least recently used entry goes first, a hit refreshes an entry,
// the size kept is the sum of the entries' estimates, an evicted entry is
// computed again, and the newest entry stays even when it alone is over
// the bound.
func TestDiffCacheEvictsLeastRecentlyUsed(t *testing.T) {
	const each = 3000
	one := fakeDiff("a", each).memSize("a")
	c := newDiffCache(t.TempDir(), 3*one+one/2) // room for three
	calls := map[string]int{}
	for _, k := range []string{"a", "b", "c"} {
		getCounted(t, c, k, fakeDiff(k, each), calls)
	}
	getCounted(t, c, "a", fakeDiff("a", each), calls) // a is now the newest
	getCounted(t, c, "d", fakeDiff("d", each), calls) // evicts b
	if got := fmt.Sprint(cachedKeys(c)); got != "[d a c]" {
		t.Fatalf("cache holds %s, want [d a c] (newest first)", got)
	}
	if mem, _, n := c.usage(); mem != 3*one || n != 3 {
		t.Fatalf("usage %d bytes in %d entries, want %d in 3", mem, n, 3*one)
	}
	getCounted(t, c, "b", fakeDiff("b", each), calls) // computed again, evicts c
	if calls["a"] != 1 || calls["b"] != 2 || calls["c"] != 1 {
		t.Fatalf("computations %v; want a once, b twice, c once", calls)
	}
	if _, ok := c.peek("c"); ok {
		t.Fatal("c is still cached")
	}
	huge := fakeDiff("huge", 10*one)
	getCounted(t, c, "huge", huge, calls)
	if got := fmt.Sprint(cachedKeys(c)); got != "[huge]" {
		t.Fatalf("after an entry over the bound the cache holds %s, want [huge]", got)
	}
	if mem, _, _ := c.usage(); mem != huge.memSize("huge") {
		t.Fatalf("usage %d, want %d", mem, huge.memSize("huge"))
	}
}

// The estimate counts paths, entries, chunk references and deleted paths.
func TestDiffCacheEstimate(t *testing.T) {
	res := &DiffResult{tree: &virtualTree{files: map[string]File{}}}
	base := diffValue{res: res}.memSize("k")
	res.tree.files["dir/file"] = File{Entry: sources.Entry{Path: "dir/file"}, Chunks: make([]ChunkRef, 3)}
	res.Deleted = []string{"gone"}
	want := base + fileOverhead + int64(len("dir/file")) + 3*chunkRefBytes + deletedOverhead + int64(len("gone"))
	if got := (diffValue{res: res, memContent: 100}).memSize("k"); got != want+100 {
		t.Fatalf("estimate %d, want %d", got, want+100)
	}
}

// spillContent writes data through a contentBuf and returns what it
// made.
func spillContent(t *testing.T, d *spillDir, budget *atomic.Int64, data []byte) spilledContent {
	t.Helper()
	b := &contentBuf{ctx: context.Background(), spill: d, budget: budget}
	for p := data; len(p) > 0; p = p[min(len(p), 100_000):] {
		if _, err := b.Write(p[:min(len(p), 100_000)]); err != nil {
			t.Fatal(err)
		}
	}
	c, err := b.finish()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Content up to spillAbove stays on the heap while the budget lasts;
// more goes to a spill file, mapped. Evicting a diff removes its spill
// files, but content a reader still holds reads on; the disk bound
// evicts too.
func TestDiffCacheSpills(t *testing.T) {
	c := newDiffCache(t.TempDir(), 1<<30)
	c.max.disk = 5 << 20
	var budget atomic.Int64
	budget.Store(1 << 20)
	small := spillContent(t, c.spill, &budget, []byte("small"))
	if small.path != "" || small.heap != 5 || string(small.data) != "small" || budget.Load() != 1<<20-5 {
		t.Fatalf("small content: spilled to %q, heap %d, budget left %d", small.path, small.heap, budget.Load())
	}
	over := spillContent(t, c.spill, &budget, bytes.Repeat([]byte("b"), 1<<20)) // over the budget left
	if over.path == "" || over.heap != 0 || budget.Load() != 1<<20-5 {
		t.Fatalf("content over the budget: path %q, heap %d, budget %d", over.path, over.heap, budget.Load())
	}
	big := randBytes(3, 3<<20)
	held := spillContent(t, c.spill, &budget, big)
	if held.path == "" || !bytes.Equal(held.data, big) || cap(held.carrier) != 1 {
		t.Fatalf("big content: path %q, %d bytes equal %v", held.path, len(held.data), bytes.Equal(held.data, big))
	}
	calls := map[string]int{}
	getCounted(t, c, "one", diffValue{res: &DiffResult{}, spills: []string{held.path}, disk: 3 << 20}, calls)
	getCounted(t, c, "two", diffValue{res: &DiffResult{}, spills: []string{over.path}, disk: 1 << 20}, calls)
	if _, err := os.Stat(held.path); err != nil {
		t.Fatalf("spill file of a cached diff: %v", err)
	}
	getCounted(t, c, "three", diffValue{res: &DiffResult{}, disk: 2 << 20}, calls) // 6 MiB > 5: evicts one
	if got := fmt.Sprint(cachedKeys(c)); got != "[three two]" {
		t.Fatalf("cache holds %s, want [three two]", got)
	}
	if _, err := os.Stat(held.path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spill file of an evicted diff: %v", err)
	}
	if !bytes.Equal(held.data, big) {
		t.Fatal("content held by a reader changed when its diff was evicted")
	}
	dir := c.spill.path()
	c.close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("spill directory after close: %v", err)
	}
	if !bytes.Equal(held.data, big) {
		t.Fatal("content held by a reader changed when the cache closed")
	}
	if _, err := c.spill.create(); err == nil {
		t.Fatal("a closed cache made a spill file")
	}
}

// A failed Differ leaves no spill file behind, and a cancelled
// computation is not cached.
func TestDiffCacheFailureLeavesNothing(t *testing.T) {
	c := newDiffCache(t.TempDir(), 0)
	var budget atomic.Int64
	b := &contentBuf{ctx: context.Background(), spill: c.spill, budget: &budget}
	if _, err := b.Write(make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	b.abort()
	if left, _ := os.ReadDir(c.spill.path()); len(left) != 0 {
		t.Fatalf("%d spill files after abort", len(left))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.get(ctx, "k", func() (diffValue, error) { return diffValue{}, ctx.Err() })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	calls := map[string]int{}
	getCounted(t, c, "k", fakeDiff("k", 1), calls)
	if calls["k"] != 1 {
		t.Fatal("a failed computation was cached")
	}
}

// Concurrent callers of one key share one computation.
func TestDiffCacheSharesComputation(t *testing.T) {
	c := newDiffCache(t.TempDir(), 0)
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.get(context.Background(), "k", func() (diffValue, error) {
				calls.Add(1)
				<-release
				return fakeDiff("k", 1), nil
			})
			if err != nil || res.Version.Name != "k" {
				t.Errorf("got %v, %v", res, err)
			}
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the others wait on the first
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d computations, want 1", n)
	}
}

// Opening removes spill directories of dead processes and keeps those of
// live ones.
func TestStaleSpillsRemoved(t *testing.T) {
	parent := t.TempDir()
	dead := 1<<22 - 1
	for dead > 1 && !lock.ProcessGone(dead) {
		dead--
	}
	live := filepath.Join(parent, fmt.Sprintf("%s%d-1", spillPrefix, os.Getpid()))
	stale := filepath.Join(parent, fmt.Sprintf("%s%d-1", spillPrefix, dead))
	for _, d := range []string{live, stale} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "diff-1"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	newDiffCache(parent, 0)
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spill directory of dead process %d: %v", dead, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("spill directory of this process: %v", err)
	}
}
