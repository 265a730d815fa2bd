package index

import (
	"context"
	"fmt"
	"io"
	"sort"

	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// A large file that changed in place (a database file, a log appended to)
// is read against its previous cuts (hints.go), and that reading, hashing
// and cutting is one goroutine's: in the bench's second backup the 544 MiB
// JSON lines file took 0.93 of the run's 1.0 s while the workers waited
// for it a fifth of the time. When the source can read ranges
// (sources.RangeReader), such a file is split at previous cuts into
// segments read at once, each cut as a stream of its own, so that its
// reading, hashing and new chunks spread over the cores.
//
// A segment starts at a previous cut and ends at the next segment's: where
// a segment's bytes are as before, its chunks are the previous ones, as
// from one stream; where a change crosses a segment's end, the chunk
// before it ends there instead of where one stream's scan would have cut.
// The chunks are still content-defined within the segment, and the next
// version reads against these cuts, so the cost is at most a chunk or
// two per changed segment end.

// segmentMin is the size a segment must have, at least: below it the
// goroutines and buffers cost more than they save. (A variable for tests.)
var segmentMin int64 = 64 << 20

// maxSegments bounds one file's segments: each holds a chunker buffer
// (3 MiB) and a reading goroutine; with a few, the file's work is spread
// over the cores, which the other files read meanwhile keep busy too.
const maxSegments = 4

// segmentable returns the reader's ranges and the previous chunks to cut
// a file by, when it is worth reading in segments.
func (s *session) segmentable(e sources.Entry, r io.Reader, p format.ChunkerParams) (sources.RangeReader, []ChunkRef, bool) {
	rr, ok := r.(sources.RangeReader)
	if !ok || e.Size < 2*segmentMin {
		return nil, nil, false
	}
	prev, ok := s.prev.get(e.Path)
	if !ok || prev.Type != sources.TypeFile || len(prev.Chunks) < 2*hintMinChunks {
		return nil, nil, false
	}
	for _, c := range prev.Chunks {
		if c.Off != 0 || int(c.Size) > p.Max {
			return nil, nil, false // extents of shared chunks, not cuts
		}
	}
	return rr, prev.Chunks, true
}

// segmentBounds splits [0, size) at previous cuts (the ends of prev's
// chunks) near equal parts: bounds[i] and bounds[i+1] are segment i's
// start and end, and every bound but the last is a previous cut.
func segmentBounds(prev []ChunkRef, size int64) []int64 {
	k := min(int64(maxSegments), size/segmentMin)
	ends := make([]int64, len(prev))
	var off int64
	for i, c := range prev {
		off += int64(c.Size)
		ends[i] = off
	}
	bounds := []int64{0}
	for i := int64(1); i < k; i++ {
		target := size * i / k
		j := sort.Search(len(ends), func(j int) bool { return ends[j] >= target })
		if j == len(ends) || ends[j] >= size {
			break
		}
		if ends[j] > bounds[len(bounds)-1] {
			bounds = append(bounds, ends[j])
		}
	}
	return append(bounds, size)
}

// storeSegments stores a file read as segments (see segmentBounds), each
// by a goroutine of its own, and returns its chunks in order and the bytes
// read. The caller checks the reader (ReadAtDone).
func (s *session) storeSegments(ctx context.Context, e sources.Entry, rr sources.RangeReader, prev []ChunkRef) ([]ChunkRef, int64, error) {
	bounds := segmentBounds(prev, e.Size)
	parts := make([][]ChunkRef, len(bounds)-1)
	ns := make([]int64, len(parts))
	errs := make([]error, len(parts))
	g, gctx := errgroup.WithContext(ctx)
	first := 0 // prev's chunk that starts at the segment's start
	var off int64
	for i := range parts {
		start, end := bounds[i], bounds[i+1]
		last := first
		for last < len(prev) && off < end {
			off += int64(prev[last].Size)
			last++
		}
		hints := prev[first:last]
		first = last
		g.Go(func() error {
			parts[i], ns[i], errs[i] = s.storeSegment(gctx, e, io.NewSectionReader(rr, start, end-start), hints, end-start)
			return errs[i]
		})
	}
	err := g.Wait()
	var n int64
	for i, k := range ns {
		n += k
		if err != nil && errs[i] == nil {
			s.doneBytes.Add(-k) // a failed segment took its own back
		}
	}
	if err != nil {
		return nil, n, err
	}
	var refs []ChunkRef
	for _, p := range parts {
		refs = append(refs, p...)
	}
	return refs, n, nil
}

// storeSegment stores size bytes from r, cut against hints (the previous
// chunks from the segment's start).
func (s *session) storeSegment(ctx context.Context, e sources.Entry, r io.Reader, hints []ChunkRef, size int64) ([]ChunkRef, int64, error) {
	ch := s.chunker(r, size)
	defer releaseChunker(ch)
	next := plainChunks(ch.Next)
	if h := newHinted(ch, hints, size); h != nil {
		next = h.chunk
	}
	refs, n, err := s.storeChunks(ctx, e.Path, next, true)
	if err == nil && n != size {
		s.doneBytes.Add(-n)
		err = fmt.Errorf("store %s: read %d bytes of a %d-byte segment (the file changed while being read)", e.Path, n, size)
	}
	return refs, n, err
}
