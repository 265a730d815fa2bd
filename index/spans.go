package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/stratabackup/strata/sources"
)

// AddSpans implements sources.Writer: new bytes are gathered into chunks
// of about the chunker's average size, cut only between spans (or at the
// maximum), and ranges of the previous version's file become references
// into the chunks that already hold them. e.Size < 0 means "whatever the
// spans add up to".
func (s *session) AddSpans(ctx context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	if err := sources.CheckPath(e.Path); err != nil {
		return err
	}
	s.spans.Store(true) // the version may hold extents: format 2
	pf, _ := s.prev.get(e.Path)
	b := spanBuilder{s: s, ctx: ctx, prev: pf.File}
	b.prevOffs = refOffsets(b.prev.Chunks)
	var n int64
	for {
		sp, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			k := int64(len(sp.Data))
			if k > 0 {
				err = b.addData(sp.Data)
			} else if sp.Len > 0 {
				k = sp.Len
				err = b.addPrev(sp.Off, sp.Len)
			}
			n += k
			s.progressed(k)
		}
		if err != nil {
			b.abort()
			s.doneBytes.Add(-n)
			return fmt.Errorf("store %s: %w", e.Path, err)
		}
	}
	refs, err := b.finish()
	if err == nil && e.Size >= 0 && n != e.Size {
		err = fmt.Errorf("got %d bytes, expected %d", n, e.Size)
	}
	if err != nil {
		s.doneBytes.Add(-n)
		return fmt.Errorf("store %s: %w", e.Path, err)
	}
	e.Size = n
	e.Type = sources.TypeFile
	if err := s.record(File{Entry: e, Chunks: refs}); err != nil {
		return err
	}
	s.changedFiles.Add(1)
	return nil
}

// spanBuilder assembles one file's references for AddSpans.
type spanBuilder struct {
	s        *session
	ctx      context.Context
	prev     File
	prevOffs []int64

	compact map[ID]struct{} // chunks whose ranges are copied, not referenced

	refs []ChunkRef
	buf  []byte // the open new chunk
	open []int  // indexes into refs of extents of the open chunk
	// sealed new chunks: their hashing results and the refs to patch.
	futs    []chan chunkResult
	patches [][]int
}

// refOffsets returns the file offset at which each reference starts, plus
// the total.
func refOffsets(refs []ChunkRef) []int64 {
	offs := make([]int64, len(refs)+1)
	for i, c := range refs {
		offs[i+1] = offs[i] + int64(c.Size)
	}
	return offs
}

func (b *spanBuilder) addData(p []byte) error {
	maxChunk := b.s.st.cfg.Chunker.Max
	for len(p) > 0 {
		take := min(len(p), maxChunk-len(b.buf))
		off := len(b.buf)
		b.buf = append(b.buf, p[:take]...)
		p = p[take:]
		if k := len(b.open); k > 0 && b.open[k-1] == len(b.refs)-1 {
			b.refs[len(b.refs)-1].Size += uint32(take) // right after the last new bytes
		} else {
			b.open = append(b.open, len(b.refs))
			b.refs = append(b.refs, ChunkRef{Off: uint32(off), Size: uint32(take)})
		}
		if len(b.buf) >= maxChunk {
			if err := b.seal(); err != nil {
				return err
			}
		}
	}
	if len(b.buf) >= b.s.st.cfg.Chunker.Avg {
		return b.seal()
	}
	return nil
}

// seal hands the open chunk to the workers; its refs get their id when
// the file is finished.
func (b *spanBuilder) seal() error {
	if len(b.buf) == 0 {
		return nil
	}
	f, err := b.s.submit(b.ctx, b.buf, true)
	if err != nil {
		return err
	}
	b.futs = append(b.futs, f)
	b.patches = append(b.patches, b.open)
	b.buf, b.open = b.buf[:0], nil
	return nil
}

// Compaction. Each version of a table with scattered updates leaves more
// of its old chunks dead but pinned: reads fetch ever more unused bytes,
// and prune cannot free a chunk while any live row sits in it. So when a
// range lies in a chunk that the previous file uses less than
// compactBelow of, its bytes are copied into new chunks instead of
// referenced, sparsest chunks first, copying at most compactBudget of the
// previous file per version: uniform updates age all chunks at once, and
// the budget spreads their rewriting over several versions instead of
// doubling one backup. A budget at the rate rows change (5% per version
// in the tests) keeps up with the dead bytes they leave, so reading a
// file fetches about 1/compactBelow of its size at worst.
const (
	compactBelow  = 0.5
	compactBudget = 0.05
)

// sparse reports whether ranges in chunk id are to be copied.
func (b *spanBuilder) sparse(id ID) bool {
	if b.compact == nil {
		b.compact = b.pickCompaction()
	}
	_, ok := b.compact[id]
	return ok
}

// pickCompaction chooses the chunks whose used bytes this file copies.
func (b *spanBuilder) pickCompaction() map[ID]struct{} {
	out := map[ID]struct{}{}
	if b.s.prevLocate == nil {
		return out
	}
	used := map[ID]int64{}
	for _, c := range b.prev.Chunks {
		used[c.ID] += int64(c.Size)
	}
	type cand struct {
		id   ID
		used int64
		util float64
	}
	var cands []cand
	for id, u := range used {
		loc, ok, err := b.s.prevLocate(id)
		if err != nil || !ok || loc.RawLen == 0 {
			continue
		}
		if util := float64(u) / float64(loc.RawLen); util < compactBelow {
			cands = append(cands, cand{id, u, util})
		}
	}
	sort.Slice(cands, func(i, j int) bool {
		if cands[i].util != cands[j].util {
			return cands[i].util < cands[j].util
		}
		return bytes.Compare(cands[i].id[:], cands[j].id[:]) < 0
	})
	budget := int64(compactBudget * float64(b.prevOffs[len(b.prevOffs)-1]))
	for _, c := range cands {
		if c.used > budget {
			continue // a smaller, denser one may still fit
		}
		budget -= c.used
		out[c.id] = struct{}{}
	}
	return out
}

// addPrev references bytes [off, off+n) of the previous version's file,
// or copies them where they lie in a sparse chunk.
func (b *spanBuilder) addPrev(off, n int64) error {
	total := b.prevOffs[len(b.prevOffs)-1]
	if off < 0 || n < 0 || off+n > total {
		return fmt.Errorf("span %d+%d outside the previous version's file (%d bytes)", off, n, total)
	}
	i := sort.Search(len(b.prev.Chunks), func(i int) bool { return b.prevOffs[i+1] > off })
	for n > 0 {
		c := b.prev.Chunks[i]
		in := off - b.prevOffs[i]
		take := min(n, int64(c.Size)-in)
		ref := ChunkRef{ID: c.ID, Off: c.Off + uint32(in), Size: uint32(take)}
		if b.sparse(c.ID) {
			data, err := b.s.st.loadChunk(b.ctx, c.ID, b.s.prevLocate)
			if err != nil {
				return fmt.Errorf("copy from the previous version: %w", err)
			}
			from, to := int64(c.Off)+in, int64(c.Off)+in+take
			if to > int64(len(data)) {
				return fmt.Errorf("copy from the previous version: bytes %d-%d of chunk %s, which has %d: %w", from, to, c.ID, len(data), ErrCorrupt)
			}
			if err := b.addData(data[from:to]); err != nil {
				return err
			}
			off, n = off+take, n-take
			i++
			continue
		}
		if k := len(b.refs); k > 0 && !b.isOpen(k-1) {
			if last := &b.refs[k-1]; last.ID == ref.ID && last.Off+last.Size == ref.Off {
				last.Size += ref.Size
				ref.Size = 0
			}
		}
		if ref.Size > 0 {
			b.refs = append(b.refs, ref)
		}
		off, n = off+take, n-take
		i++
	}
	return nil
}

func (b *spanBuilder) isOpen(i int) bool {
	return len(b.open) > 0 && b.open[len(b.open)-1] == i
}

// finish seals the last chunk, waits for every new chunk and fills in
// their ids.
func (b *spanBuilder) finish() ([]ChunkRef, error) {
	if err := b.seal(); err != nil {
		b.abort()
		return nil, err
	}
	res, err := collect(b.futs)
	if err != nil {
		return nil, err
	}
	for k, r := range res {
		for _, i := range b.patches[k] {
			b.refs[i].ID = r.ID
		}
	}
	return b.refs, nil
}

// abort waits for submitted chunks so no worker writes into a dead file.
func (b *spanBuilder) abort() { _, _ = collect(b.futs) }
