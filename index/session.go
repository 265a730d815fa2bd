package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// session is one backup in progress: the sources.Writer handed to a source.
// Chunks flow Add -> chunker -> worker pool (hash, dedup, compress) ->
// packer -> backend; Add waits only for its own chunks, so files are
// processed in parallel and one large file still uses every core.
type session struct {
	// ctx is the backup's context: packs upload under it, not under the
	// context of the Add that filled them (a source's worker context may
	// end before the upload does).
	ctx   context.Context
	st    *Store
	known *chunkSet
	prev  *prevFiles
	// prevLocate finds the previous version's chunks (the backup runs
	// without the catalog); AddSpans reads sparse ones to copy them.
	prevLocate locator
	// jobs queue chunks for the workers, one per worker: each holds a
	// copy of up to 2 MiB, and a deeper queue only held more of them.
	jobs   chan chunkJob
	packer *packer
	wg     sync.WaitGroup

	// prevList are the chunks of the previous version's file list: stored,
	// so a list chunk that is one of them needs no claim, and an unchanged
	// tree's re-backup no chunk set (chunkSet).
	prevList map[ID]struct{}
	// same finds a list that is the previous version's.
	same *unchangedList
	// list holds the entries recorded, encoded (listruns.go).
	list *listRuns
	mu   sync.Mutex
	// root is the object's own directory, when the source adds it.
	root *File

	readBytes, doneBytes, newBytes, newChunks, filesDone atomic.Int64
	// changedFiles counts files written with their content (Add or
	// AddSpans), as opposed to kept unchanged.
	changedFiles atomic.Int64
	// spans is set once AddSpans is used: the version may hold extents.
	spans atomic.Bool
	// backRefs is set once a record names a chunk twice: its line holds a
	// back reference (store format 5).
	backRefs atomic.Bool

	// events receives the source's reports (BackupOptions.Events).
	events func(sources.Event)
	// claimed are the chunks this session stores (see chunkSet.forget).
	claimedMu sync.Mutex
	claimed   []ID
}

// Report passes a source's event on to whoever runs the backup.
func (s *session) Report(e sources.Event) {
	if s.events != nil {
		s.events(e)
	}
}

func (s *session) claimedIDs() []ID {
	s.claimedMu.Lock()
	defer s.claimedMu.Unlock()
	return s.claimed
}

type chunkJob struct {
	ctx  context.Context
	data []byte
	res  chan chunkResult
}

type chunkResult struct {
	ref ChunkRef
	err error
}

// Chunks are copied for the workers into pooled buffers, small ones into
// small buffers: a small file's chunk is a few KB, and 1 MiB buffers for
// the chunks in flight were 10-24 MB of a backup's heap.
var (
	bufPool      = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}
	smallBufPool = sync.Pool{New: func() any { b := make([]byte, 0, smallChunk); return &b }}
)

const smallChunk = 64 << 10

func getBuf(n int) *[]byte {
	if n <= smallChunk {
		return smallBufPool.Get().(*[]byte)
	}
	return bufPool.Get().(*[]byte)
}

func putBuf(b []byte) {
	b = b[:0]
	if cap(b) <= smallChunk {
		smallBufPool.Put(&b)
	} else {
		bufPool.Put(&b)
	}
}

func newSession(ctx context.Context, st *Store, known *chunkSet, prev *prevFiles, workers int) *session {
	s := &session{ctx: ctx, st: st, known: known, prev: prev, jobs: make(chan chunkJob, workers), packer: newPacker(st.be),
		list: newListRuns(filepath.Dir(st.catDir)), same: &unchangedList{}}
	s.packer.indexEvery = sessionIndexBlobs
	for i := 0; i < workers; i++ {
		s.wg.Add(1)
		go s.worker()
	}
	return s
}

func (s *session) worker() {
	defer s.wg.Done()
	var dst []byte
	for j := range s.jobs {
		id := format.HashChunk(j.data)
		ref := ChunkRef{ID: id, Size: uint32(len(j.data))}
		mine, err := false, error(nil)
		if _, stored := s.prevList[id]; !stored {
			mine, err = s.known.claim(id)
		}
		if mine {
			s.claimedMu.Lock()
			s.claimed = append(s.claimed, id)
			s.claimedMu.Unlock()
			var typ byte
			var blob []byte
			typ, blob = format.EncodeBlobLevel(s.st.cfg.Level(), dst, j.data)
			dst = blob
			err = s.packer.add(s.ctx, id, typ, blob, len(j.data))
			s.known.stored(id, uint32(len(blob)))
			s.newBytes.Add(int64(len(blob)))
			s.newChunks.Add(1)
		}
		putBuf(j.data)
		j.res <- chunkResult{ref: ref, err: err}
	}
}

// submit queues one chunk (copied) for hashing and storing. A chunk of a
// source's content (read) demands the chunk set: it may be new.
func (s *session) submit(ctx context.Context, chunk []byte, read bool) (chan chunkResult, error) {
	if read {
		s.known.demand()
	}
	data := append((*getBuf(len(chunk)))[:0], chunk...)
	res := make(chan chunkResult, 1)
	select {
	case s.jobs <- chunkJob{ctx: ctx, data: data, res: res}:
		return res, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func collect(futs []chan chunkResult) ([]ChunkRef, error) {
	refs := make([]ChunkRef, len(futs))
	var first error
	for i, f := range futs {
		r := <-f
		refs[i] = r.ref
		if r.err != nil && first == nil {
			first = r.err
		}
	}
	return refs, first
}

var chunkerPool sync.Pool

// Add implements sources.Writer.
func (s *session) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if e.Path == "" && e.Type == sources.TypeDir {
		s.mu.Lock()
		s.root = &File{Entry: e}
		s.mu.Unlock()
		return nil
	}
	if err := sources.CheckPath(e.Path); err != nil {
		return err
	}
	if e.Type != sources.TypeFile {
		return s.record(File{Entry: e})
	}
	prev, ends := s.previousCuts(e)
	var refs []ChunkRef
	var n int64
	var err error
	if rr, ok := r.(sources.RangeReader); ok && segmentable(e.Size, prev) {
		refs, n, err = s.storeSegments(ctx, e, rr, prev, ends)
		// The source says whether the file changed, also when a segment
		// read short: then it reads the file again, as after a stream.
		if derr := rr.ReadAtDone(n); derr != nil {
			if err == nil {
				s.doneBytes.Add(-n)
			}
			return fmt.Errorf("read %s: %w", e.Path, derr)
		}
	} else {
		ch := s.chunker(r, e.Size)
		next := plainChunks(ch.Next)
		if h := hintedBy(ch, prev, ends, e.Size); h != nil {
			next = h.chunk
		}
		refs, n, err = s.storeChunks(ctx, e.Path, next, true)
		releaseChunker(ch)
	}
	if err != nil {
		return err
	}
	if n != e.Size {
		s.doneBytes.Add(-n) // not done: the source reads it again or fails
		return fmt.Errorf("store %s: read %d bytes, expected %d (the file changed while being read)", e.Path, n, e.Size)
	}
	if err := s.record(File{Entry: e, Chunks: refs}); err != nil {
		return err
	}
	s.changedFiles.Add(1)
	return nil
}

// chunker returns a pooled chunker over r, a stream of about size bytes.
func (s *session) chunker(r io.Reader, size int64) *format.Chunker {
	ch, _ := chunkerPool.Get().(*format.Chunker)
	if ch == nil || ch.Params() != s.st.cfg.Chunker {
		ch = format.NewChunker(s.st.cfg.Chunker, r)
	} else {
		ch.Reset(r)
	}
	ch.Expect(size)
	return ch
}

// releaseChunker pools ch again; a large stream's buffer goes back for
// the next one.
func releaseChunker(ch *format.Chunker) {
	ch.Release()
	chunkerPool.Put(ch)
}

// chunkNext yields a stream's next chunk (io.EOF after the last) and,
// when it is a chunk of the previous version (stored already), its ID;
// else nil.
type chunkNext func() ([]byte, *ID, error)

// previousCuts returns file e's previous chunks and the offset right
// after each (cutsOf), when they can hint its cuts (hints.go). A file too
// small to have had hintMinChunks chunks does not look its previous entry
// up (most changed files of a source tree are).
func (s *session) previousCuts(e sources.Entry) ([]ChunkRef, []int64) {
	p := s.st.cfg.Chunker
	if e.Size < int64(hintMinChunks*p.Min) {
		return nil, nil
	}
	f, ok := s.prev.get(e.Path)
	if !ok || f.Type != sources.TypeFile {
		return nil, nil
	}
	ends, ok := cutsOf(f.Chunks, p.Max)
	if !ok {
		return nil, nil
	}
	return f.Chunks, ends
}

// plainChunks is a chunker's Next as a chunkNext: nothing hashed.
func plainChunks(next func() ([]byte, error)) chunkNext {
	return func() ([]byte, *ID, error) {
		b, err := next()
		return b, nil, err
	}
}

// storeChunks submits every chunk next yields (until io.EOF) and returns
// the file's chunk references, in order, and its size. read says the bytes
// come from the source (and count as read and done); a version's own file
// list does not.
func (s *session) storeChunks(ctx context.Context, path string, next chunkNext, read bool) ([]ChunkRef, int64, error) {
	var futs []chan chunkResult
	var n int64
	// notDone takes back the bytes counted as done when they do not end
	// up stored.
	notDone := func() {
		if read {
			s.doneBytes.Add(-n)
		}
	}
	for {
		c, id, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			n += int64(len(c))
			if read {
				s.progressed(int64(len(c)))
			}
			var f chan chunkResult
			if id != nil {
				// A hinted chunk is one of the previous version's, stored
				// like the chunks a kept file refers to: no copy, no
				// worker, nothing to claim.
				f = make(chan chunkResult, 1)
				f <- chunkResult{ref: ChunkRef{ID: *id, Size: uint32(len(c))}}
			} else {
				f, err = s.submit(ctx, c, read)
			}
			if f != nil {
				futs = append(futs, f)
			}
		}
		if err != nil {
			_, _ = collect(futs)
			notDone()
			return nil, n, fmt.Errorf("read %s: %w", path, err)
		}
	}
	refs, err := collect(futs)
	if err != nil {
		notDone()
		return nil, n, fmt.Errorf("store %s: %w", path, err)
	}
	return refs, n, nil
}

// Keep implements sources.Writer.
func (s *session) Keep(ctx context.Context, e sources.Entry) error {
	p, ok := s.prev.kept(e.Path)
	if !ok || p.Type != sources.TypeFile {
		return fmt.Errorf("keep %s: the previous version has no such file", e.Path)
	}
	e.Size = p.Size
	if err := s.recordWith(File{Entry: e, Chunks: p.Chunks}, &p); err != nil {
		return err
	}
	s.doneBytes.Add(p.Size)
	return nil
}

var _ sources.SameKeeper = (*session)(nil)

// KeepSame implements sources.SameKeeper: the previous line is compared
// with e as it stands (format.SameLine), not decoded, and recorded again
// as it is.
func (s *session) KeepSame(ctx context.Context, e sources.Entry) (bool, error) {
	if e.Type != sources.TypeFile || !s.prev.lines {
		return false, nil
	}
	at, pe, ok := s.prev.raw(e.Path)
	if !ok {
		return false, nil
	}
	sc := lineBufs.Get().(*lineBuf)
	defer lineBufs.Put(sc)
	list, same, scratch := format.SameLine(pe.val, &e, sc.line)
	sc.line = scratch
	if !same {
		return false, nil
	}
	if sc.refs, ok = format.AppendChunkIDs(sc.refs[:0], list); !ok {
		return false, nil
	}
	// Recorded as Keep records: the previous entry (the same, with the
	// line's chunks) gives its line to reuse.
	prev := prevFile{File: File{Entry: e, Chunks: sc.refs}, line: pe.val, at: at}
	if err := s.recordWith(prev.File, &prev); err != nil {
		return false, err
	}
	s.doneBytes.Add(e.Size)
	return true, nil
}

// record adds a finished entry, encoded at once: its line in the list
// goes to the session's list runs, and the File is not kept. Bytes count
// as done as they are read (progressed), or at once for kept files.
func (s *session) record(f File) error { return s.recordWith(f, nil) }

// recordWith is record for a kept file, whose previous entry prev gives
// the line to reuse when nothing about the file changed (nil: a file
// written anew, always encoded).
func (s *session) recordWith(f File, prev *prevFile) error {
	sc := lineBufs.Get().(*lineBuf)
	defer lineBufs.Put(sc)
	line, rec := prev.reusedLine(&f)
	encoded := line == nil
	if encoded {
		var err error
		if sc.line, err = rec.AppendLine(sc.line[:0]); err != nil {
			return fmt.Errorf("encode file list entry %q: %w", f.Path, err)
		}
		line = sc.line
	}
	// The run records count each chunk once; a chunk named twice is also
	// what makes a line encoded here hold a back reference.
	ids := distinctChunks(f.Chunks)
	if encoded && len(ids) < len(f.Chunks) {
		s.backRefs.Store(true)
	}
	if err := s.list.add(&f, ids, line); err != nil {
		return err
	}
	s.same.note(s.prev, &f, line, prev)
	s.filesDone.Add(1)
	return nil
}

// lineBuf is a recorder's scratch space for a line it encodes (or
// compares) and the chunks it names.
type lineBuf struct {
	line []byte
	refs []ChunkRef
}

var lineBufs = sync.Pool{New: func() any { return &lineBuf{} }}

// progressed counts k bytes read from the source, as they are read, so
// that progress and its ETA move during one large file too.
func (s *session) progressed(k int64) {
	s.readBytes.Add(k)
	s.doneBytes.Add(k)
}

func (s *session) close() {
	close(s.jobs)
	s.wg.Wait()
}
