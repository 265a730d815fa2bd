package index

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// rangeReads is what memSource's ranged readers saw, and whether their
// file is to look changed once read.
type rangeReads struct {
	readAts atomic.Int64
	done    atomic.Int64
	changed bool
	// shortAt, when above 0, ends the file there for ReadAt, as if it was
	// cut short while read.
	shortAt int64
}

// rangedReader is a bytes.Reader that is also a sources.RangeReader.
type rangedReader struct {
	*bytes.Reader
	log *rangeReads
}

func (r *rangedReader) ReadAt(p []byte, off int64) (int, error) {
	r.log.readAts.Add(1)
	if end := r.log.shortAt; end > 0 && off+int64(len(p)) > end {
		n, _ := r.Reader.ReadAt(p[:max(0, end-off)], off)
		return n, io.EOF
	}
	return r.Reader.ReadAt(p, off)
}

var errRangedChanged = errors.New("file changed while being read")

func (r *rangedReader) ReadAtDone(read int64) error {
	r.log.done.Add(1)
	if r.log.changed || read != r.Size() {
		return errRangedChanged
	}
	return nil
}

// withSegmentMin lowers segmentMin for a test, so that a few MiB make
// segments.
func withSegmentMin(t *testing.T, n int64) {
	old := segmentMin
	segmentMin = n
	t.Cleanup(func() { segmentMin = old })
}

// segmentedFixture backs up n random bytes as file "big" of a memSource
// whose readers read ranges, with segmentMin lowered to 1 MiB. The store's
// chunker seed is random, so n must make many more than the 8 previous
// chunks segments need (6 MiB made 8-11, and sometimes too few).
func segmentedFixture(t *testing.T, seed uint64, n int) (*Store, *memSource, *rangeReads, []byte) {
	t.Helper()
	withSegmentMin(t, 1<<20)
	st, _, _ := newTestStore(t)
	data := randBytes(seed, n)
	reads := &rangeReads{}
	src := &memSource{files: map[string][]byte{"big": data}, ranged: reads}
	if _, err := st.Backup(context.Background(), src, segObj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	return st, src, reads, data
}

var segObj = sources.Object{Cluster: "c", Database: "d", Table: "t"}

// TestLargeChangedFileReadInSegments: a large file changed in place and
// appended to is read as segments (ReadAt, checked once with
// ReadAtDone), reads back as written, and stores little more than the
// change: the segments' unchanged stretches are the previous chunks.
func TestLargeChangedFileReadInSegments(t *testing.T) {
	st, src, reads, data := segmentedFixture(t, 21, 16<<20)
	if n := reads.readAts.Load(); n != 0 {
		t.Fatalf("a file with no previous version was read with %d ReadAt calls; want a stream", n)
	}
	changed := bytes.Clone(data)
	copy(changed[3<<20:], bytes.Repeat([]byte("changed "), 1000))
	changed = append(changed, randBytes(22, 1<<20)...)
	src.files["big"] = changed
	v2, err := st.Backup(context.Background(), src, segObj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reads.readAts.Load() == 0 || reads.done.Load() != 1 {
		t.Fatalf("ReadAt calls %d, ReadAtDone calls %d: want segments, checked once", reads.readAts.Load(), reads.done.Load())
	}
	if !bytes.Equal(readAll(t, st, v2, "big"), changed) {
		t.Fatal("the second version does not read back as written")
	}
	// New: the 8,000 changed bytes' chunks, the appended MiB and the
	// chunks cut short at segment ends, at most a chunk per segment.
	if max := int64(1<<20 + (2+maxSegments)*st.cfg.Chunker.Max); v2.Stats.NewBytes > max {
		t.Errorf("the second backup stored %d new bytes (at most %d expected)", v2.Stats.NewBytes, max)
	}
}

// TestSegmentedFileChangedWhileRead: when the source says the file
// changed while its segments were read, the backup fails naming the file
// and makes no version.
func TestSegmentedFileChangedWhileRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		mark func(*rangeReads)
	}{
		{"changed", func(r *rangeReads) { r.changed = true }},
		// A segment read short is no store error of its own: the source
		// is asked, and says the file changed (it then reads it again).
		{"cut short", func(r *rangeReads) { r.shortAt = 3 << 20 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, src, reads, data := segmentedFixture(t, 23, 16<<20)
			src.files["big"] = append(bytes.Clone(data), "more"...)
			tc.mark(reads)
			_, err := st.Backup(context.Background(), src, segObj, BackupOptions{})
			if !errors.Is(err, errRangedChanged) || !strings.Contains(err.Error(), "big") {
				t.Fatalf("backup of a file that changed while read: %v; want the source's error naming big", err)
			}
			if d := reads.done.Load(); d != 1 {
				t.Errorf("ReadAtDone called %d times; want once", d)
			}
			vs, err := st.Versions(context.Background(), ObjectRef{Cluster: "c", Database: "d", Table: "t"})
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) != 1 {
				t.Fatalf("%d versions after a failed backup; want the first only", len(vs))
			}
		})
	}
}

// TestSegmentBounds: segments start at 0, end at the file's size, grow
// strictly, and split only at previous cuts that lie inside the file.
func TestSegmentBounds(t *testing.T) {
	withSegmentMin(t, 100)
	chunks := func(sizes ...uint32) []ChunkRef {
		out := make([]ChunkRef, len(sizes))
		for i, s := range sizes {
			out[i] = ChunkRef{Size: s}
		}
		return out
	}
	even := chunks(50, 50, 50, 50, 50, 50, 50, 50) // cuts at 50, 100, ... 400
	for _, tc := range []struct {
		name string
		prev []ChunkRef
		size int64
		want []int64
	}{
		{"as before", even, 400, []int64{0, 100, 200, 300, 400}},
		{"appended", even, 800, []int64{0, 200, 400, 800}},
		{"cut short", even, 250, []int64{0, 150, 250}},
		{"one huge previous chunk", chunks(390, 10), 400, []int64{0, 390, 400}},
		{"too small to split", even, 150, []int64{0, 150}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ends, ok := cutsOf(tc.prev, math.MaxInt)
			if !ok {
				t.Fatal("cutsOf refused plain chunks")
			}
			segs := segmentsOf(tc.prev, ends, tc.size)
			got := []int64{0}
			for i, sg := range segs {
				got = append(got, sg.end)
				if i < len(segs)-1 && sumSizes(sg.hints) != sg.end-sg.start {
					t.Errorf("segment [%d, %d) hinted by %d bytes of previous chunks", sg.start, sg.end, sumSizes(sg.hints))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("segment bounds (size %d) = %v, want %v", tc.size, got, tc.want)
			}
		})
	}
}

func sumSizes(refs []ChunkRef) int64 {
	var n int64
	for _, c := range refs {
		n += int64(c.Size)
	}
	return n
}
