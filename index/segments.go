package index

import (
	"context"
	"io"
	"sort"

	"golang.org/x/sync/errgroup"

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

// segmentable says whether a file of size bytes with the previous
// chunks prev (a chunker's cuts: previousCuts) is worth reading in
// segments.
func segmentable(size int64, prev []ChunkRef) bool {
	return size >= 2*segmentMin && len(prev) >= 2*hintMinChunks
}

// segment is a part of a file read on its own: [start, end), cut against
// hints, the previous chunks from start on.
type segment struct {
	start, end int64
	hints      []ChunkRef
}

// segmentsOf splits [0, size) at previous cuts (ends[i] is the offset
// right after prev[i]) near equal parts: every segment but the last ends
// at a previous cut.
func segmentsOf(prev []ChunkRef, ends []int64, size int64) []segment {
	k := min(int64(maxSegments), size/segmentMin)
	var segs []segment
	var start int64
	first := 0 // prev's chunk that starts at start
	for i := int64(1); i < k; i++ {
		j := sort.Search(len(ends), func(j int) bool { return ends[j] >= size*i/k })
		if j == len(ends) || ends[j] >= size {
			break
		}
		if ends[j] > start {
			segs = append(segs, segment{start: start, end: ends[j], hints: prev[first : j+1]})
			start, first = ends[j], j+1
		}
	}
	return append(segs, segment{start: start, end: size, hints: prev[first:]})
}

// storeSegments stores a file read as segments (segmentsOf), each by a
// goroutine of its own, and returns its chunks in order and the bytes
// read. A failed store takes back the bytes it counted as done. The
// caller checks the reader (ReadAtDone).
func (s *session) storeSegments(ctx context.Context, e sources.Entry, rr sources.RangeReader, prev []ChunkRef, ends []int64) ([]ChunkRef, int64, error) {
	segs := segmentsOf(prev, ends, e.Size)
	parts := make([][]ChunkRef, len(segs))
	ns := make([]int64, len(segs))
	errs := make([]error, len(segs))
	g, gctx := errgroup.WithContext(ctx)
	for i, sg := range segs {
		g.Go(func() error {
			parts[i], ns[i], errs[i] = s.storeSegment(gctx, e, io.NewSectionReader(rr, sg.start, sg.end-sg.start), sg)
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

// storeSegment stores segment sg, read from r. A segment read short is
// the caller's to notice: the bytes add up to less than the file's size.
func (s *session) storeSegment(ctx context.Context, e sources.Entry, r io.Reader, sg segment) ([]ChunkRef, int64, error) {
	size := sg.end - sg.start
	ch := s.chunker(r, size)
	defer releaseChunker(ch)
	next := plainChunks(ch.Next)
	if h := newHinted(ch, sg.hints, size); h != nil {
		next = h.chunk
	}
	return s.storeChunks(ctx, e.Path, next, true)
}
