package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// treeSource is a posix-like source of n small files in 100 directories.
// Version 0 writes every file; version k > 0 rewrites the files whose
// number is k mod period and keeps the others, so the diff of (a, b]
// holds the files numbered a+1..b mod period.
type treeSource struct {
	n, period, k int
	at           time.Time
}

func (s *treeSource) Kind() string { return "tree" }
func (s *treeSource) Close() error { return nil }
func (s *treeSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "tree"}}, nil
}

func treePath(i int) string { return fmt.Sprintf("d%02d/file-%05d.txt", i%100, i) }

// treeData is file i as version k wrote it.
func treeData(i, k int) []byte {
	return []byte(fmt.Sprintf("file %d written by version %d\n%s", i, k, strings.Repeat("x", i%50)))
}

// treeWriter is the version that last wrote file i at version k.
func treeWriter(i, k, period int) int {
	if m := i % period; m >= 1 && m <= k {
		return m
	}
	return 0
}

func (s *treeSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	for i := range s.n {
		p := treePath(i)
		if old, ok := prev.Lookup(p); ok && (s.k == 0 || i%s.period != s.k) {
			if err := w.Keep(ctx, old); err != nil {
				return sources.Result{}, err
			}
			continue
		}
		data := treeData(i, s.k)
		e := sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o644, ModTime: s.at, Size: int64(len(data))}
		if err := w.Add(ctx, e, bytes.NewReader(data)); err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{At: s.at}, nil
}

// backupTree stores versions 0..count-1 of a treeSource of n files.
func backupTree(t testing.TB, st *Store, n, count int) []Version {
	t.Helper()
	src := &treeSource{n: n, period: count, at: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var vs []Version
	for k := range count {
		src.k, src.at = k, src.at.Add(time.Hour)
		v, err := st.Backup(context.Background(), src, sources.Object{Cluster: "c", Database: "d", Table: "tree"}, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

// diffRanges returns every (a, b) with a < b, then b alone (from nothing)
// as a = -1, up to want ranges.
func diffRanges(count, want int) [][2]int {
	var out [][2]int
	for a := range count {
		for b := a + 1; b < count; b++ {
			out = append(out, [2]int{a, b})
		}
	}
	for b := 0; b < count && len(out) < want; b++ {
		out = append(out, [2]int{-1, b})
	}
	return out[:min(want, len(out))]
}

// heapAfterGC returns the live heap.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func openBounded(t testing.TB, bound int64, differs map[string]sources.Differ) *Store {
	t.Helper()
	st, be, _ := newTestStoreB(t)
	st.Close()
	st, err := Open(context.Background(), be, Options{CacheDir: t.TempDir(), DiffCacheBytes: bound, ChunkCacheBytes: 2 << 20, Differs: differs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// checkTreeDiff reads a file the range changed and looks up one it did
// not change.
func checkTreeDiff(t testing.TB, st *Store, d DiffResult, a, b, period int) {
	t.Helper()
	ctx := context.Background()
	i := 7*period + b // numbered b mod period: written by version b (or 0)
	got, err := io.ReadAll(st.NewStreamReader(ctx, mustLookup(t, st, d.Version, treePath(i))))
	if want := treeData(i, treeWriter(i, b, period)); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("diff %d..%d: %s reads %q, %v; want %q", a, b, treePath(i), got, err, want)
	}
	if a >= 0 {
		j := 7*period + a // numbered a: unchanged in (a, b]
		if _, err := st.Lookup(ctx, d.Version, treePath(j)); !errors.Is(err, ErrNotFound) {
			t.Fatalf("diff %d..%d holds %s, unchanged in the range (%v)", a, b, treePath(j), err)
		}
	}
}

func mustLookup(t testing.TB, st *Store, v Version, p string) File {
	t.Helper()
	f, err := st.Lookup(context.Background(), v, p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestDiffMemoryBounded asks a store for the diffs of 200 ranges over 20
// versions of 3,000 files (without a bound they would hold about 100 MiB)
// and checks that the heap retained afterwards stays within the cache
// bound plus a margin for the catalog and the runtime instead of growing
// with the number of ranges, that the cache's estimate of its heap is
// not far below the truth, that every diff holds the right files and
// bytes, and that a diff evicted long ago is computed again when read
// through the version its result named.
func TestDiffMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("backs up 20 versions of 3,000 files")
	}
	const files, count, bound, margin = 3_000, 20, 4 << 20, 8 << 20
	ctx := context.Background()
	st := openBounded(t, bound, nil)
	vs := backupTree(t, st, files, count)
	ranges := diffRanges(count, 200)
	var warm uint64
	var firstDiff DiffResult
	for n, r := range ranges {
		var from *Version
		if r[0] >= 0 {
			from = &vs[r[0]]
		}
		d, err := st.Diff(ctx, from, vs[r[1]])
		if err != nil {
			t.Fatal(err)
		}
		checkTreeDiff(t, st, d, r[0], r[1], count)
		switch n {
		case 0:
			firstDiff = d
		case 4:
			warm = heapAfterGC()
		}
	}
	after := heapAfterGC()
	mem, _, cached := st.diffs.usage()
	t.Logf("%d ranges of %d files: heap %.1f MiB after 5 diffs, %.1f MiB after all (%+.1f MiB); cache estimate %.1f MiB in %d entries, bound %.1f MiB",
		len(ranges), files, mib(warm), mib(after), mib(after)-mib(warm), mib(uint64(mem)), cached, mib(bound))
	if after > warm+bound+margin {
		t.Errorf("heap grew from %.1f to %.1f MiB over %d ranges; bound %.1f MiB plus %.1f margin", mib(warm), mib(after), len(ranges), mib(bound), mib(margin))
	}
	if mem > bound {
		t.Errorf("cache estimate %d bytes over its bound %d", mem, bound)
	}
	held := after - emptyCache(st)
	t.Logf("the cache's %d entries held %.1f MiB of heap; estimated %.1f MiB", cached, mib(held), mib(uint64(mem)))
	if held > 2*uint64(mem) {
		t.Errorf("the cache held %d bytes of heap, more than twice its estimate %d", held, mem)
	}
	if _, ok := st.diffs.peek(firstDiff.Version.Name); ok {
		t.Fatal("the first diff is still cached: the test does not evict")
	}
	checkTreeDiff(t, st, firstDiff, ranges[0][0], ranges[0][1], count) // computed again
}

// emptyCache drops every cached diff and returns the heap left.
func emptyCache(st *Store) uint64 {
	st.diffs.clear()
	return heapAfterGC()
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// blobDiffer is a row source's Differ whose output is one large native
// file, its size and bytes a function of the range, plus a small one.
type blobDiffer struct{}

func blobSize(from, to time.Time) int {
	return (192 << 10) * (1 + int(from.Unix()/3600+7*(to.Unix()/3600))%16)
}

func blobData(from, to time.Time) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(from.Unix()))
	binary.LittleEndian.PutUint64(seed[8:], uint64(to.Unix()))
	b := make([]byte, blobSize(from, to))
	_, _ = rand.NewChaCha8(seed).Read(b)
	return b
}

func (blobDiffer) Diff(ctx context.Context, from, to sources.VersionReader, w sources.Writer) error {
	f, t := from.Info().Time, to.Info().Time
	data := blobData(f, t)
	e := sources.Entry{Path: "changes.bson", Type: sources.TypeFile, Mode: 0o644, ModTime: t, Size: -1}
	rest := data
	err := w.AddSpans(ctx, e, func() (sources.Span, error) {
		if len(rest) == 0 {
			return sources.Span{}, io.EOF
		}
		n := min(64<<10, len(rest))
		sp := sources.Span{Data: rest[:n]}
		rest = rest[n:]
		return sp, nil
	})
	if err != nil {
		return err
	}
	meta := fmt.Sprintf(`{"from":%q,"to":%q}`, TimeName(f), TimeName(t))
	e = sources.Entry{Path: "changes.metadata.json", Type: sources.TypeFile, Mode: 0o644, ModTime: t, Size: int64(len(meta))}
	return w.Add(ctx, e, strings.NewReader(meta))
}

// TestDiffContentSpilledAndBounded asks for 200 ranges (over 21 versions)
// of a row source
// whose Differ writes up to 3 MiB per diff: content over 1 MiB goes to
// spill files, the heap stays within the bound, the spill directory holds
// only the cached diffs' files, every file reads back exactly (also one
// whose diff was evicted while a reader held it), and Close removes the
// directory.
func TestDiffContentSpilledAndBounded(t *testing.T) {
	const count, bound, margin = 21, 8 << 20, 16 << 20
	ctx := context.Background()
	st := openBounded(t, bound, map[string]sources.Differ{"mem": blobDiffer{}})
	src := &memSource{files: map[string][]byte{"x": []byte("x")}, at: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var vs []Version
	for range count {
		src.at = src.at.Add(time.Hour)
		v, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	ranges := diffRanges(count, 200)
	var warm uint64
	var held File
	var heldWant []byte
	spilled := 0
	for n, r := range ranges {
		from, to := &vs[r[0]], vs[r[1]]
		d, err := st.Diff(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		f := mustLookup(t, st, d.Version, "changes.bson")
		want := blobData(from.Time, to.Time)
		if got := readStream(t, st, f); !bytes.Equal(got, want) {
			t.Fatalf("diff %d..%d: changes.bson reads %d bytes, want %d equal bytes", r[0], r[1], len(got), len(want))
		}
		if len(want) > spillAbove {
			spilled++
			if held.Path == "" {
				held, heldWant = f, want
			}
		}
		if meta := readStream(t, st, mustLookup(t, st, d.Version, "changes.metadata.json")); !bytes.Contains(meta, []byte(TimeName(to.Time))) {
			t.Fatalf("diff %d..%d: metadata %q", r[0], r[1], meta)
		}
		if n == 4 {
			warm = heapAfterGC()
		}
	}
	after := heapAfterGC()
	mem, disk, cached := st.diffs.usage()
	dir := st.diffs.spill.path()
	left, _ := os.ReadDir(dir)
	t.Logf("%d ranges, %d with content spilled: heap %.1f MiB after 5 diffs, %.1f MiB after all (%+.1f MiB); cache estimate %.1f MiB heap + %.1f MiB spilled in %d entries (%d spill files), bound %.1f MiB",
		len(ranges), spilled, mib(warm), mib(after), mib(after)-mib(warm), mib(uint64(mem)), mib(uint64(disk)), cached, len(left), mib(bound))
	if after > warm+bound+margin {
		t.Errorf("heap grew from %.1f to %.1f MiB over %d ranges; bound %.1f MiB plus %.1f margin", mib(warm), mib(after), len(ranges), mib(bound), mib(margin))
	}
	if spilled == 0 || len(left) == 0 || len(left) > cached {
		t.Errorf("%d spill files for %d cached diffs (%d spilled in all)", len(left), cached, spilled)
	}
	if got := readStream(t, st, held); !bytes.Equal(got, heldWant) {
		t.Error("content of an evicted diff held by a reader reads wrong")
	}
	st.Close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spill directory %s after Close: %v", dir, err)
	}
}

func readStream(t testing.TB, st *Store, f File) []byte {
	t.Helper()
	r := st.NewStreamReader(context.Background(), f)
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
