package index

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// Small files are restored by pack: a tree of many small files stores
// each one as a single chunk, and fetching those one by one (a catalog
// lookup, an open and a read of the pack, a trip through the read cache
// per file) was most of a restore's time and its memory. Instead the
// restore looks every single-chunk file's blob up once, sorts them by
// pack and offset, and reads runs of neighbouring blobs with one backend
// read, as restic's restorer does. Larger files stream through the
// ordinary reader with its read-ahead.
const (
	// packSpanMax bounds one read of neighbouring blobs (and so the
	// buffer each worker keeps for it; 4 and 8 MiB restored a source
	// tree no faster).
	packSpanMax = 1 << 20
	// packGapMax is the most bytes of unwanted blobs read over rather
	// than starting a new read.
	packGapMax = 256 << 10
)

// restoreJob is what one worker does at a time: one file written from
// the ordinary reader (run == nil), or the files of one pack run.
type restoreJob struct {
	item restoreItem
	run  *packRun
}

// packRun is a span of one pack holding the single blobs of its files.
type packRun struct {
	pack     ID
	off, end int64
	files    []packedFile
}

// packedFile is a single-chunk file and where its blob lies: its pack
// is an index into the restore's packs, 32 bytes in all, as a
// million-file restore holds one per file.
type packedFile struct {
	f                   *File
	pack                uint32
	typ                 byte
	off, length, rawLen uint32
}

// restoreJobs orders the plan's writes into jobs: symlinks, empty and
// multi-chunk files one by one, single-chunk files in pack runs. A file
// whose chunk the catalog does not know is left alone and returned in
// missing, to be reported as failed.
func (s *Store) restoreJobs(items []restoreItem) (jobs []restoreJob, missing []restoreItem, err error) {
	cat, err := s.catalog()
	if err != nil {
		return nil, nil, err
	}
	single := func(it restoreItem) bool {
		return it.f.Type == sources.TypeFile && len(it.f.Chunks) == 1 && it.f.Content == nil
	}
	n := 0
	for _, it := range items {
		if single(it) {
			n++
		}
	}
	packed := make([]packedFile, 0, n) // sized once: not copied as it grows
	packIdx := map[ID]uint32{}
	var packs []ID
	for _, it := range items {
		if !single(it) {
			jobs = append(jobs, restoreJob{item: it})
			continue
		}
		loc, ok, err := cat.Chunk(it.f.Chunks[0].ID)
		if err != nil {
			return nil, nil, fmt.Errorf("restore: look up chunk of %s: %w", it.f.Path, err)
		}
		if !ok {
			missing = append(missing, it)
			continue
		}
		pi, ok := packIdx[loc.Pack]
		if !ok {
			pi = uint32(len(packs))
			packIdx[loc.Pack] = pi
			packs = append(packs, loc.Pack)
		}
		packed = append(packed, packedFile{f: it.f, pack: pi, typ: loc.Type, off: loc.Offset, length: loc.Length, rawLen: loc.RawLen})
	}
	sort.Slice(packed, func(i, j int) bool {
		a, b := &packed[i], &packed[j]
		if a.pack != b.pack {
			return a.pack < b.pack
		}
		return a.off < b.off
	})
	return packRuns(jobs, packed, packs), missing, nil
}

// packRuns appends to jobs the runs of packed (sorted by pack and
// offset): neighbouring blobs of one pack, read together.
func packRuns(jobs []restoreJob, packed []packedFile, packs []ID) []restoreJob {
	// A run's files are a stretch of packed, not a copy: a million-file
	// restore held both.
	var cur *packRun
	start := 0
	for i, pf := range packed {
		off, end := int64(pf.off), int64(pf.off)+int64(pf.length)
		if cur == nil || cur.pack != packs[pf.pack] || off > cur.end+packGapMax || max(end, cur.end)-cur.off > packSpanMax {
			if cur != nil {
				cur.files = packed[start:i:i]
				jobs = append(jobs, restoreJob{run: cur})
			}
			cur = &packRun{pack: packs[pf.pack], off: off, end: end}
			start = i
		}
		cur.end = max(cur.end, end)
	}
	if cur != nil {
		cur.files = packed[start:]
		jobs = append(jobs, restoreJob{run: cur})
	}
	return jobs
}

// readRun fetches a pack run with one backend read and hands each file
// its verified chunk, or the error that keeps it from being written (a
// corrupt blob fails its file only; a failed read fails them all).
func (s *Store) readRun(ctx context.Context, r *packRun, each func(f *File, data []byte, err error)) {
	bufs := runBufs.Get().(*runBuf)
	defer runBufs.Put(bufs)
	span, err := format.ReadRangeTo(ctx, s.be, format.PackName(r.pack), r.off, r.end-r.off, bufs.span)
	if err == nil {
		bufs.span = span
	}
	for _, pf := range r.files {
		if errors.Is(err, backends.ErrNotFound) {
			// A prune in another process rewrote the pack since the plan:
			// each chunk is read where it is now (loadChunk refreshes).
			data, lerr := s.loadChunk(ctx, pf.f.Chunks[0].ID, nil)
			if lerr == nil {
				data, lerr = chunkExtent(data, pf.f.Chunks[0])
			}
			each(pf.f, data, lerr)
			continue
		}
		if err != nil {
			each(pf.f, nil, fmt.Errorf("chunk %s: %w", pf.f.Chunks[0].ID, err))
			continue
		}
		start := int64(pf.off) - r.off
		blob := span[start : start+int64(pf.length)]
		id := pf.f.Chunks[0].ID
		data, derr := format.DecodeBlobTo(bufs.chunk, id, pf.typ, blob, int(pf.rawLen))
		if derr == nil && pf.typ == format.BlobZstd {
			bufs.chunk = data
		}
		if derr == nil {
			data, derr = chunkExtent(data, pf.f.Chunks[0])
		}
		each(pf.f, data, derr)
	}
}

// runBuf is a worker's buffers for pack runs: the span read and one
// decoded chunk, reused (each gets a file's bytes only while it runs).
// Fresh ones per run and per file were garbage that the restore's memory
// grew with (a third more peak RSS on a tree of small files).
type runBuf struct{ span, chunk []byte }

var runBufs = sync.Pool{New: func() any { return new(runBuf) }}

// chunkExtent is the part of a decoded chunk a file reference covers.
func chunkExtent(data []byte, c ChunkRef) ([]byte, error) {
	end := int64(c.Off) + int64(c.Size)
	if end > int64(len(data)) {
		return nil, fmt.Errorf("chunk %s: reference %d+%d past its %d bytes: %w", c.ID, c.Off, c.Size, len(data), ErrCorrupt)
	}
	return data[c.Off:end], nil
}
