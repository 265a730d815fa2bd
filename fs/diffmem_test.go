package fs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// rewriteSource is a posix-like source of n small files in 50
// directories. Version 0 writes every file; version k > 0 rewrites the
// files whose number is k mod period and keeps the others.
type rewriteSource struct {
	n, period, k int
	at           time.Time
}

func (s *rewriteSource) Kind() string { return "rewrite" }
func (s *rewriteSource) Close() error { return nil }
func (s *rewriteSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "t"}}, nil
}

func rewritePath(i int) string { return fmt.Sprintf("d%02d/f%05d", i%50, i) }

// rewriteData is file i as version k wrote it.
func rewriteData(i, k int) []byte { return []byte(fmt.Sprintf("file %d of version %d\n", i, k)) }

func (s *rewriteSource) Backup(ctx context.Context, _ sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	for i := range s.n {
		if old, ok := prev.Lookup(rewritePath(i)); ok && (s.k == 0 || i%s.period != s.k) {
			if err := w.Keep(ctx, old); err != nil {
				return sources.Result{}, err
			}
			continue
		}
		data := rewriteData(i, s.k)
		e := sources.Entry{Path: rewritePath(i), Type: sources.TypeFile, Mode: 0o644, ModTime: s.at, Size: int64(len(data))}
		if err := w.Add(ctx, e, bytes.NewReader(data)); err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{At: s.at}, nil
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// boundedStore backs up count versions of a rewriteSource of n files
// into a store whose diff cache is bounded by bound bytes.
func boundedStore(t *testing.T, n, count int, bound int64) (*index.Store, []index.Version) {
	t.Helper()
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	st, err := index.Open(ctx, be, index.Options{CacheDir: t.TempDir(), DiffCacheBytes: bound, ChunkCacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src := &rewriteSource{n: n, period: count, at: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	var vs []index.Version
	for k := range count {
		src.k, src.at = k, src.at.Add(time.Hour)
		v, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "t"}, index.BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return st, vs
}

// readDiffFile reads file i (written by version b's writer) from the
// mounted diff dir and stats file j, which the range did not change.
func readDiffFile(t *testing.T, dir string, i, want, j int) {
	t.Helper()
	b, err := os.ReadFile(dir + "/" + rewritePath(i))
	if err != nil || !bytes.Equal(b, rewriteData(i, want)) {
		t.Fatalf("%s/%s: %q, %v; want %q", dir, rewritePath(i), b, err, rewriteData(i, want))
	}
	if j >= 0 {
		_, err := os.Stat(dir + "/" + rewritePath(j))
		wantErrno(t, "unchanged "+rewritePath(j), err, syscall.ENOENT)
	}
}

// TestDiffMountMemoryBounded reads the @diff directories of 78 ranges
// over 12 versions of 3,000 files through the mount and checks that the
// heap retained stays within the store's diff cache bound plus a margin
// (the mount keeps no diffs of its own), that each diff shows the right
// content, and that a diff directory whose diff was evicted long ago
// still answers lookups of files not read before.
func TestDiffMountMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("backs up 12 versions of 3,000 files")
	}
	const files, count, bound, margin = 3000, 12, 1 << 20, 8 << 20
	st, vs := boundedStore(t, files, count, bound)
	tbl := tablePath(mountTest(t, FromStore(st)), index.ObjectRef{Cluster: "c", Database: "d", Table: "t"})
	name := func(k int) string {
		if k < 0 {
			return "0"
		}
		return index.TimeName(vs[k].Time)
	}
	var ranges [][2]int
	for a := -1; a < count; a++ {
		for b := max(a+1, 0); b < count; b++ {
			ranges = append(ranges, [2]int{a, b})
		}
	}
	var warm uint64
	for n, r := range ranges {
		dir := tbl + "/@diff/" + name(r[0]) + ".." + name(r[1])
		unchanged := -1 // from nothing, every file is in the diff
		if r[0] >= 0 {
			unchanged = 5*count + r[0]
		}
		readDiffFile(t, dir, 5*count+r[1], r[1], unchanged) // file numbered b: written by version b
		if n == 4 {
			warm = liveHeap()
		}
	}
	after := liveHeap()
	t.Logf("%d ranges of %d files through the mount: heap %.1f MiB after 5, %.1f MiB after all (%+.1f MiB); diff cache bound %.1f MiB",
		len(ranges), files, float64(warm)/(1<<20), float64(after)/(1<<20), (float64(after)-float64(warm))/(1<<20), float64(bound)/(1<<20))
	if after > warm+bound+margin {
		t.Errorf("heap grew from %d to %d bytes over %d ranges; bound %d plus %d margin", warm, after, len(ranges), bound, margin)
	}
	// The first ranges' diffs are long evicted; their directories, still
	// known to the kernel, look up files not read before.
	first := tbl + "/@diff/" + name(0) + ".." + name(1)
	readDiffFile(t, first, 9*count+1, 1, 9*count)
}
