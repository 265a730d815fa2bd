package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// chunkCache keeps decoded chunks, bounded by bytes, and makes concurrent
// readers of one chunk share one fetch.
type chunkCache = lruFlight[ID, []byte]

func newChunkCache(max int64) *chunkCache {
	return newLRUFlight(cost{mem: max}, func(_ ID, data []byte) cost { return cost{mem: int64(len(data))} }, nil)
}

// locator finds a chunk's blob where the store has no catalog to ask (a
// backup reading the previous version runs detached).
type locator func(ID) (format.BlobLoc, bool, error)

// chunkReads says how a reader fetches chunks: into which cache, how many
// ahead of a sequential reader, and whether small blobs come through the
// Store's pack windows (kept for the next small reads nearby) or are read
// exactly.
type chunkReads struct {
	cache   *chunkCache
	ahead   int
	windows bool
	// direct reads large blobs around the page cache (ReadAround): set
	// for files of streamChunks chunks or more, whose blobs follow each
	// other in their packs and are each read once. A smaller file's
	// blob is read through the cache, where the kernel's read-ahead
	// brings in its neighbours: the next files of a `tar` (read around
	// the cache, a cold tar of the kernel source tree through the mount
	// took 10.3-10.7 s against 9.3-9.8 s).
	direct bool
}

// streamChunks is the fewest chunks of a file whose blobs are read
// around the page cache.
const streamChunks = 4

// sharedReads is how the mount and other long-lived readers fetch chunks: the
// Store's cache and windows, the ordinary read-ahead.
func (s *Store) sharedReads() chunkReads {
	return chunkReads{cache: s.cache, ahead: readAhead, windows: true}
}

// loadChunk fetches one chunk from its pack (through the cache) and
// verifies it; locate finds the blob, or the catalog when locate is nil.
func (s *Store) loadChunk(ctx context.Context, id ID, locate locator) ([]byte, error) {
	return s.loadChunkIn(s.sharedReads(), ctx, id, locate)
}

// loadChunkIn is loadChunk as rd says.
func (s *Store) loadChunkIn(rd chunkReads, ctx context.Context, id ID, locate locator) ([]byte, error) {
	return rd.cache.get(ctx, id, func() ([]byte, error) {
		own := locate == nil
		if own {
			cat, err := s.catalog()
			if err != nil {
				return nil, err
			}
			locate = cat.Chunk
		}
		loc, ok, err := locate(id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("chunk %s: %w", id, ErrNotFound)
		}
		blob, borrowed, err := s.readBlob(ctx, loc, rd)
		if errors.Is(err, backends.ErrNotFound) && own {
			// A prune (here or in another process) rewrote the pack since
			// this Store's catalog snapshot: refresh once and read the
			// chunk where it is now, rather than fail the read until the
			// next periodic refresh.
			if moved, ok := s.relocate(ctx, id, loc); ok {
				blob, borrowed, err = s.readBlob(ctx, moved, rd)
				loc = moved
			}
		}
		if err != nil {
			return nil, fmt.Errorf("chunk %s: %w", id, err)
		}
		chunk, err := format.DecodeBlob(id, loc.Type, blob, int(loc.RawLen))
		if err == nil && borrowed && len(chunk) > 0 && &chunk[0] == &blob[0] {
			// A raw blob decodes to itself: the cache must not keep
			// its whole pack window alive through it.
			chunk = bytes.Clone(chunk)
		}
		return chunk, err
	})
}

// readAhead is how many chunks past the current one a sequential reader
// fetches in the background (6 x 512 KiB average: enough to keep the
// backend busy while the kernel copies).
const readAhead = 6

// FileReader reads a stored file's content at any offset. Safe for
// concurrent use.
type FileReader struct {
	s      *Store
	f      File
	offs   []int64 // start offset of each chunk, plus the total
	mu     sync.Mutex
	next   int64 // offset right after the last read: sequential detection
	primed int   // highest chunk index already queued for read-ahead
	locate locator
	reads  chunkReads
	ctx    context.Context
	cancel context.CancelFunc
}

// OpenFile returns a reader for f.
func (s *Store) OpenFile(f File) *FileReader {
	return s.openFileIn(f, s.sharedReads())
}

// openFileIn returns a reader for f that fetches chunks as rd says: a
// restore reads most chunks once, and filling the Store's shared cache
// and windows with them only costs memory.
func (s *Store) openFileIn(f File, rd chunkReads) *FileReader {
	rd.direct = len(f.Chunks) >= streamChunks
	r := &FileReader{s: s, f: f, offs: refOffsets(f.Chunks), primed: -1, reads: rd}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// ReadAt reads len(p) bytes at off; it returns io.EOF at the end.
func (r *FileReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if c := r.f.Content; c != nil {
		if off >= int64(len(c)) {
			return 0, io.EOF
		}
		return copy(p, c[off:]), nil
	}
	size := r.offs[len(r.offs)-1]
	if off >= size {
		return 0, io.EOF
	}
	i := sort.Search(len(r.f.Chunks), func(i int) bool { return r.offs[i+1] > off })
	r.prefetch(off, i)
	n := 0
	for n < len(p) && i < len(r.f.Chunks) {
		ref := r.f.Chunks[i]
		data, err := r.s.loadChunkIn(r.reads, ctx, ref.ID, r.locate)
		if err != nil {
			return n, fmt.Errorf("read %s at %d: %w", r.f.Path, off+int64(n), err)
		}
		data, err = chunkExtent(data, ref)
		if err != nil {
			return n, fmt.Errorf("read %s at %d: %w", r.f.Path, off+int64(n), err)
		}
		c := copy(p[n:], data[off+int64(n)-r.offs[i]:])
		n += c
		i++
	}
	r.mu.Lock()
	r.next = off + int64(n)
	r.mu.Unlock()
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// prefetch queues the next r.reads.ahead distinct chunks when reads are
// sequential. Extents of one chunk often follow each other (a row source's
// unchanged rows), so references are deduplicated, looking at most
// prefetchScan references ahead.
func (r *FileReader) prefetch(off int64, i int) {
	r.mu.Lock()
	if off != r.next {
		r.primed = i  // a seek: read-ahead starts again from here
		if off != 0 { // reading from the start counts as sequential
			r.mu.Unlock()
			return
		}
	}
	seen := []ID{r.f.Chunks[i].ID}
	var ids []ID
	j := i + 1
	for ; j < len(r.f.Chunks) && j <= i+prefetchScan && len(seen) <= r.reads.ahead; j++ {
		id := r.f.Chunks[j].ID
		if slices.Contains(seen, id) {
			continue
		}
		seen = append(seen, id)
		if j > r.primed {
			ids = append(ids, id)
		}
	}
	r.primed = max(r.primed, j-1)
	r.mu.Unlock()
	for _, id := range ids {
		go func() { _, _ = r.s.loadChunkIn(r.reads, r.ctx, id, r.locate) }()
	}
}

// prefetchScan bounds how many references prefetch looks at per read.
const prefetchScan = 1024

// Close stops read-ahead.
func (r *FileReader) Close() error {
	r.cancel()
	return nil
}

// PrefetchFiles decodes the first chunk of each of files into the shared
// chunk cache in the caller's goroutine, in order, so that reads of them
// soon after find them there. The mount calls it, on spare goroutines,
// for the files that follow the one being read in a directory: tar, cp -r
// and rsync read them next, one at a time, and would otherwise wait for
// each file's lookup, fetch and decode in turn. The chunks are located
// with one catalog pass. Errors are left for those reads to report.
func (s *Store) PrefetchFiles(ctx context.Context, files []File) {
	var ids []ID
	for _, f := range files {
		if f.Content == nil && len(f.Chunks) > 0 {
			if _, ok := s.cache.peek(f.Chunks[0].ID); !ok {
				ids = append(ids, f.Chunks[0].ID)
			}
		}
	}
	if len(ids) == 0 {
		return
	}
	cat, err := s.catalog()
	if err != nil {
		return
	}
	locs := make(map[ID]format.BlobLoc, len(ids))
	if err := cat.Chunks(ids, func(id ID, l format.BlobLoc) { locs[id] = l }); err != nil {
		return
	}
	located := func(id ID) (format.BlobLoc, bool, error) {
		l, ok := locs[id] // not found by Chunks: not in this catalog view either
		return l, ok, nil
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return
		}
		_, _ = s.loadChunkIn(s.sharedReads(), ctx, id, located)
	}
}

// relocate looks chunk id up again after a refresh of the catalog, for a
// read whose pack (at was) is gone; ok is false when it has not moved.
// Readers that fail together share one refresh.
func (s *Store) relocate(ctx context.Context, id ID, was format.BlobLoc) (format.BlobLoc, bool) {
	s.relocMu.Lock()
	if time.Since(s.relocAt) > time.Second {
		if err := s.Refresh(ctx); err != nil {
			s.relocMu.Unlock()
			return was, false
		}
		s.relocAt = time.Now()
	}
	s.relocMu.Unlock()
	cat, err := s.catalog()
	if err != nil {
		return was, false
	}
	loc, ok, err := cat.Chunk(id)
	if err != nil || !ok || loc == was {
		return was, false
	}
	return loc, true
}
