package index

import (
	"sort"

	"github.com/stratabackup/strata/index/format"
)

// A changed file is often changed in place: a log or a JSON lines file
// appended to, a database or VM image with some blocks rewritten. Its
// unchanged stretches are cut into the chunks they were cut into before,
// and finding those cuts again (the chunker's scan) cost a fifth of the
// CPU of the bench's second backup. So a file that had several chunks in
// the previous version is read against that version's cuts: where the
// next bytes hash to the previous chunk at that offset they are that
// chunk, with no scan, no copy and no worker (it is stored, as the chunks
// of a kept file are); where they do not, the chunker scans from there,
// and hints resume once one of its cuts falls where a previous cut was. A cut
// depends only on the bytes since the last cut, so this makes the chunks
// a scan would make, for the cost of one chunk hashed in vain per changed
// stretch.

// hintMinChunks is how many chunks a previous file needs to be read
// against its cuts, and how many minimum-size chunks a changed file must
// hold for its previous entry to be looked up at all (session.chunksOf):
// a file of one or two chunks that changed has changed in them, and the
// attempt would only hash it twice.
const hintMinChunks = 4

// hinted yields a stream's chunks from ch, trying the previous version's
// cuts first.
type hinted struct {
	ch   *format.Chunker
	prev []ChunkRef
	ends []int64 // ends[i] is the offset right after prev[i]
	size int64   // the stream's expected size
	pos  int64   // bytes yielded so far
	next int     // index of the previous chunk starting at pos; -1: none
	id   ID
}

// newHinted returns a chunk source over ch for a file of size bytes whose
// previous content was prev, or nil when prev gives no usable hints.
func newHinted(ch *format.Chunker, prev []ChunkRef, size int64) *hinted {
	ends, ok := cutsOf(prev, ch.Params().Max)
	if !ok {
		return nil
	}
	return hintedBy(ch, prev, ends, size)
}

// hintedBy is newHinted with prev's cuts (cutsOf) known.
func hintedBy(ch *format.Chunker, prev []ChunkRef, ends []int64, size int64) *hinted {
	if len(prev) < hintMinChunks {
		return nil
	}
	return &hinted{ch: ch, prev: prev, ends: ends, size: size}
}

// cutsOf returns the offset right after each of prev's chunks, or false
// when they are not a chunker's cuts: extents of shared chunks, or
// longer than max.
func cutsOf(prev []ChunkRef, max int) ([]int64, bool) {
	ends := make([]int64, len(prev))
	var off int64
	for i, c := range prev {
		if c.Off != 0 || int(c.Size) > max {
			return nil, false
		}
		off += int64(c.Size)
		ends[i] = off
	}
	return ends, true
}

// chunk returns the next chunk and, when it came from a hint, its ID.
func (h *hinted) chunk() ([]byte, *ID, error) {
	if i := h.next; i >= 0 && i < len(h.prev) && h.hintable(i) {
		want := h.prev[i]
		b, err := h.ch.Peek(int(want.Size))
		if err != nil {
			return nil, nil, err
		}
		if b != nil {
			if h.id = format.HashChunk(b); h.id == want.ID {
				h.ch.Advance(len(b))
				h.pos += int64(len(b))
				h.next++
				return b, &h.id, nil
			}
		}
	}
	b, err := h.ch.Next()
	if err != nil {
		return nil, nil, err
	}
	h.pos += int64(len(b))
	h.next = h.cutAt(h.pos)
	return b, nil, nil
}

// hintable says whether previous chunk i can be checked where it would
// start: its last chunk was cut by the end of the file, which is a cut
// only where the file still ends.
func (h *hinted) hintable(i int) bool {
	return i < len(h.prev)-1 || h.ends[i] == h.size
}

// cutAt is the index of the previous chunk that starts at off, -1 if
// none does.
func (h *hinted) cutAt(off int64) int {
	i := sort.Search(len(h.ends), func(i int) bool { return h.ends[i] >= off })
	if i < len(h.ends) && h.ends[i] == off {
		return i + 1
	}
	return -1
}
