package index

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// listRuns holds a backup's file list while the source adds entries. Each
// entry is encoded as it is recorded (its line in the stored list, plus
// the little the end of the backup needs: type, size, mtime, chunk ids)
// into a buffer; a full buffer is sorted by path and written as a run to
// an unlinked temporary file next to the catalog. When the source is
// done, the runs are merged in path order as often as needed (implied
// directories, storing the list, filling the catalog). A million-file
// backup held every entry (its File, fingerprint, owner, chunk slice and
// then its line) at once: 1.5 GB of peak RSS; now it holds a buffer and
// a bufio reader per run. Lists that fit in one buffer (15,000 files)
// never touch the disk.
type listRuns struct {
	dir   string // where the temporary file goes
	limit int    // bytes buffered before a run is written

	mu   sync.Mutex
	seq  uint64
	buf  []byte
	ents []runEnt
	f    *os.File
	w    *bufio.Writer // writes runs to f, kept for the next run
	size int64
	runs []runSpan
	err  error
	// dirs are the recorded directories; parents each entry's directory
	// with its newest child mtime (a map entry per directory, for
	// implied).
	dirs    map[string]bool
	parents map[string]time.Time
}

// runEnt is a buffered entry: its path and record (buf[off:end]).
type runEnt struct {
	path     string
	seq      uint64
	off, end int
}

// runSpan is a run on the temporary file.
type runSpan struct{ off, n int64 }

// listRunBytes is how much a backup buffers before writing a run: a
// million-file list (300 MB of records) makes 75 runs, merged through a
// 64 KiB reader each.
var listRunBytes = 4 << 20

// listGrowBytes is how far the buffer grows by doubling before it is
// made its full size (plus this, for the entry that crosses the limit).
const listGrowBytes = 256 << 10

func newListRuns(dir string) *listRuns { return &listRuns{dir: dir, limit: listRunBytes} }

// listEnt is one decoded entry; its slices are valid until the next.
type listEnt struct {
	path  string
	seq   uint64
	typ   sources.EntryType
	size  int64
	mtime time.Time
	ids   []byte // chunk ids, 32 bytes each
	line  []byte
}

// encodeEnt appends e's record: path, seq, type, size, mtime, ids (its
// distinct chunks), line.
func encodeEnt(b []byte, f *File, ids []ChunkRef, seq uint64, line []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(f.Path)))
	b = append(b, f.Path...)
	b = binary.AppendUvarint(b, seq)
	b = append(b, byte(f.Type))
	b = binary.AppendVarint(b, f.Size)
	if f.ModTime.IsZero() {
		b = append(b, 0)
	} else {
		b = binary.AppendVarint(append(b, 1), f.ModTime.Unix())
		b = binary.AppendUvarint(b, uint64(f.ModTime.Nanosecond()))
	}
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, c := range ids {
		b = append(b, c.ID[:]...)
	}
	b = binary.AppendUvarint(b, uint64(len(line)))
	return append(b, line...)
}

// distinctChunks returns refs with each chunk's first reference only
// (refs itself when no chunk repeats). The run records only count the
// version's chunks (versionStats), so they carry each once per file: a
// file of 672,651 extents into 1,824 chunks (scattered updates) then
// carries 58 KB of ids, not 21.5 MB.
func distinctChunks(refs []ChunkRef) []ChunkRef {
	if len(refs) < 2 {
		return refs
	}
	seen := make(map[ID]struct{}, min(len(refs), 1024))
	var out []ChunkRef
	for i, c := range refs {
		if _, dup := seen[c.ID]; dup {
			if out == nil {
				out = append(make([]ChunkRef, 0, len(refs)), refs[:i]...)
			}
			continue
		}
		seen[c.ID] = struct{}{}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return refs
	}
	return out
}

var errBadRun = errors.New("bad file list run record")

// decodeEnt parses encodeEnt's output into e (sharing b).
func decodeEnt(b []byte, e *listEnt) error {
	field := func() []byte {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			b = nil
			return nil
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v
	}
	uv := func() uint64 {
		n, k := binary.Uvarint(b)
		b = b[max(k, 0):]
		return n
	}
	sv := func() int64 {
		n, k := binary.Varint(b)
		b = b[max(k, 0):]
		return n
	}
	e.path = string(field())
	e.seq = uv()
	if len(b) < 2 {
		return errBadRun
	}
	e.typ = sources.EntryType(b[0])
	b = b[1:]
	e.size = sv()
	e.mtime = time.Time{}
	if len(b) > 0 && b[0] == 1 {
		b = b[1:]
		sec := sv()
		e.mtime = time.Unix(sec, int64(uv()))
	} else if len(b) > 0 {
		b = b[1:]
	}
	n := uv()
	if uint64(len(b)) < n*32 {
		return errBadRun
	}
	e.ids, b = b[:n*32], b[n*32:]
	e.line = field()
	if e.line == nil {
		return errBadRun
	}
	return nil
}

// add records one entry with its line, encoded straight into the buffer.
func (l *listRuns) add(f *File, ids []ChunkRef, line []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.seq++
	off := len(l.buf)
	if off > listGrowBytes && cap(l.buf) < l.limit+listGrowBytes {
		// A list this long fills the buffer: take it whole now rather
		// than double it on the way (20 MB of copies for a 10 MB list).
		l.buf = append(make([]byte, 0, l.limit+listGrowBytes), l.buf...)
	}
	l.buf = encodeEnt(l.buf, f, ids, l.seq, line)
	l.ents = append(l.ents, runEnt{path: f.Path, seq: l.seq, off: off, end: len(l.buf)})
	l.noteParent(f)
	if len(l.buf) >= l.limit {
		l.err = l.spill()
	}
	return l.err
}

// noteParent keeps what implied directories need: the recorded
// directories, and each parent's newest child mtime. Callers hold mu.
func (l *listRuns) noteParent(f *File) {
	if f.Type == sources.TypeDir {
		if l.dirs == nil {
			l.dirs = map[string]bool{}
		}
		l.dirs[f.Path] = true
	}
	d, _ := format.SplitPath(f.Path)
	if d == "" {
		return
	}
	if l.parents == nil {
		l.parents = map[string]time.Time{}
	}
	if t, ok := l.parents[d]; !ok || f.ModTime.After(t) {
		l.parents[d] = f.ModTime
	}
}

// implied returns the directories entries are in that were not recorded,
// as dirDefaults with the path and, when an entry below has one, the
// newest mtime of the entries below (not the version's time: equal
// entries then make equal file lists, which later versions share).
func (l *listRuns) implied(dirDefaults sources.Entry) *listRuns {
	out := map[string]time.Time{}
	for p, t := range l.parents {
		for d := p; d != "" && !l.dirs[d]; d, _ = format.SplitPath(d) {
			if u, ok := out[d]; !ok || t.After(u) {
				out[d] = t
			}
		}
	}
	x := &listRuns{limit: math.MaxInt}
	var scratch, line []byte
	for d, t := range out {
		e := dirDefaults
		e.Path = d
		if !t.IsZero() {
			e.ModTime = t
		}
		f := File{Entry: e}
		rec := format.ToFileRecord(f)
		line, _ = rec.AppendLine(line[:0]) // a directory always encodes
		scratch = encodeEnt(scratch[:0], &f, nil, 0, line)
		off := len(x.buf)
		x.buf = append(x.buf, scratch...)
		x.ents = append(x.ents, runEnt{path: d, off: off, end: len(x.buf)})
	}
	x.sortEnts()
	return x
}

// sortEnts orders the buffered entries by path, the latest record of a
// path first. slices.SortFunc rather than sort.Slice: 80,000 entries of a
// source tree's paths (long shared prefixes, near-sorted in blocks as
// walkers hand them over) took 32.0 ms against 35.7 ms; the comparisons
// are most of either.
func (l *listRuns) sortEnts() {
	slices.SortFunc(l.ents, func(a, b runEnt) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
}

// spill writes the buffer as a sorted run. Callers hold mu.
func (l *listRuns) spill() error {
	if l.f == nil {
		if err := os.MkdirAll(l.dir, 0o700); err != nil {
			return fmt.Errorf("file list: %w", err)
		}
		f, err := os.CreateTemp(l.dir, "filelist-")
		if err != nil {
			return fmt.Errorf("file list: %w", err)
		}
		_ = os.Remove(f.Name()) // gone with the process, whatever happens
		l.f = f
	}
	l.sortEnts()
	if l.w == nil {
		l.w = bufio.NewWriterSize(nil, 1<<20)
	}
	w := l.w
	w.Reset(io.NewOffsetWriter(l.f, l.size))
	var n int64
	var hdr []byte
	for _, e := range l.ents {
		hdr = binary.AppendUvarint(hdr[:0], uint64(e.end-e.off))
		w.Write(hdr)
		w.Write(l.buf[e.off:e.end])
		n += int64(len(hdr) + e.end - e.off)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("file list: write run: %w", err)
	}
	l.runs = append(l.runs, runSpan{off: l.size, n: n})
	l.size += n
	l.buf = l.buf[:0]
	clear(l.ents)
	l.ents = l.ents[:0]
	return nil
}

// close closes the temporary file (unlinked when it was made, so this
// frees its space) and drops the buffer.
func (l *listRuns) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f != nil {
		l.f.Close()
		l.f = nil
	}
	l.buf, l.ents, l.w = nil, nil, nil
}

// finish sorts what is still buffered; it stays in memory as the last
// run. No entry may be added after.
func (l *listRuns) finish() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.sortEnts()
	return nil
}

// merge returns the entries of every run and of extra (sorted like a
// run), in path order, one per path (its latest record).
func (l *listRuns) merge(extra *listRuns) *listMerge {
	m := &listMerge{}
	for _, r := range l.runs {
		m.srcs = append(m.srcs, &fileRun{r: bufio.NewReaderSize(io.NewSectionReader(l.f, r.off, r.n), 64<<10)})
	}
	for _, x := range []*listRuns{l, extra} {
		if x != nil && len(x.ents) > 0 {
			m.srcs = append(m.srcs, &memRun{l: x})
		}
	}
	return m
}

// runSource yields one run's entries in order.
type runSource interface {
	next(e *listEnt) (bool, error)
}

type fileRun struct {
	r   *bufio.Reader
	rec []byte
}

func (r *fileRun) next(e *listEnt) (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("file list: read run: %w", err)
	}
	if uint64(cap(r.rec)) < n {
		r.rec = make([]byte, n)
	}
	r.rec = r.rec[:n]
	if _, err := io.ReadFull(r.r, r.rec); err != nil {
		return false, fmt.Errorf("file list: read run: %w", err)
	}
	return true, decodeEnt(r.rec, e)
}

type memRun struct {
	l *listRuns
	i int
}

func (r *memRun) next(e *listEnt) (bool, error) {
	if r.i >= len(r.l.ents) {
		return false, nil
	}
	re := r.l.ents[r.i]
	r.i++
	return true, decodeEnt(r.l.buf[re.off:re.end], e)
}

// listMerge merges runs: the smallest path first, of equal paths the
// latest record only.
type listMerge struct {
	srcs    []runSource
	heads   mergeHeap
	started bool
	last    *mergeHead // emitted by the previous next, to advance
	lastP   []byte
	hasLast bool
}

type mergeHead struct {
	src runSource
	e   listEnt
}

type mergeHeap []*mergeHead

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if h[i].e.path != h[j].e.path {
		return h[i].e.path < h[j].e.path
	}
	return h[i].e.seq > h[j].e.seq
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(*mergeHead)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// advance moves hd to its source's next entry, dropping it when done.
func (m *listMerge) advance(hd *mergeHead, push bool) error {
	ok, err := hd.src.next(&hd.e)
	if err != nil {
		return err
	}
	if ok && push {
		heap.Push(&m.heads, hd)
	}
	if ok && !push {
		heap.Fix(&m.heads, 0)
	}
	if !ok && !push {
		heap.Pop(&m.heads)
	}
	return nil
}

// next returns the next entry (valid until the following call), false
// at the end.
func (m *listMerge) next() (*listEnt, bool, error) {
	if !m.started {
		m.started = true
		for _, s := range m.srcs {
			if err := m.advance(&mergeHead{src: s}, true); err != nil {
				return nil, false, err
			}
		}
	}
	for {
		if m.last != nil {
			m.last = nil
			if err := m.advance(m.heads[0], false); err != nil {
				return nil, false, err
			}
		}
		if len(m.heads) == 0 {
			return nil, false, nil
		}
		m.last = m.heads[0]
		e := &m.last.e
		if m.hasLast && string(m.lastP) == e.path {
			continue // an older record of the path just returned
		}
		m.lastP, m.hasLast = append(m.lastP[:0], e.path...), true
		return e, true, nil
	}
}
