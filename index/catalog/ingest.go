package catalog

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/cockroachdb/pebble/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/sstable"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/stratabackup/strata/index/format"
)

// A version's file records are written as one table ingested into the
// database, not through batches: batches went to Pebble's log and
// memtable, were flushed into level-0 tables and compacted again, and a
// CLI backup waited at exit for that compaction. The second backup of the
// kernel source tree (78,667 files, every record new) spent 0.52-0.56 s
// committing, most of it there. A table of its own goes straight to the
// lowest level (no other keys share its version's prefix), written once.
//
// Records arrive in the file list's order (by path), while keys sort by
// directory first (fileKey), so they are sorted on the way: in memory up
// to ingestSortBytes, else in sorted runs spilled to a temporary file
// and merged, so that a million-file version costs no more memory than
// the batches did.

// ingestMinFiles is the fewest records written as a table: an ingestion
// syncs a table and the database's manifest, which a few records (a
// table's version, or a rebuild loading thousands of small versions) would
// pay for each time; a batch of them costs less than that.
var ingestMinFiles = 4096

// ingestSortBytes is how many bytes of keys and values are sorted in
// memory before a run is spilled.
var ingestSortBytes = 16 << 20

// ingestFiles writes the file records of version id (file(i), n of them)
// as a table and ingests it.
func (c *Catalog) ingestFiles(id vid, n int, file func(i int) (path string, value []byte, err error)) error {
	if c.db == nil {
		return errViewReadOnly
	}
	s := newKeySorter(c.dir, n)
	defer s.close()
	var key []byte // reused: add copies it
	for i := range n {
		p, val, err := file(i)
		if err != nil {
			return fmt.Errorf("catalog file %s: %w", p, err)
		}
		dir, base := format.SplitPath(p)
		key = appendFileKey(key[:0], id, dir, base)
		if err := s.add(key, val); err != nil {
			return err
		}
	}
	// The name needs no randomness: this process holds the database.
	path := filepath.Join(c.dir, fmt.Sprintf("%s%x.sst", ingestPrefix, id[:]))
	defer os.Remove(path) // Ingest links it into the database
	vf, err := vfs.Default.Create(path)
	if err != nil {
		return fmt.Errorf("catalog: write records: %w", err)
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(vf), c.opts.MakeWriterOptions(len(c.opts.Levels)-1, c.db.FormatMajorVersion().MaxTableFormat()))
	err = s.each(w.Set)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("catalog: write records to %s: %w", path, err)
	}
	if err := c.db.Ingest([]string{path}); err != nil {
		return fmt.Errorf("catalog %s: ingest records: %w", c.dir, err)
	}
	return nil
}

// ingestPrefix names the tables written for ingestion, in the database's
// directory (Pebble ignores names not its own). One left by a process
// that died before ingesting it is removed by the next open: the open
// holds the database's lock, so no other process is writing one.
const ingestPrefix = "strata-ingest-"

// removeStaleIngests removes the tables a dead process left in dir.
func removeStaleIngests(dir string) {
	stale, _ := filepath.Glob(filepath.Join(dir, ingestPrefix+"*"))
	for _, p := range stale {
		_ = os.Remove(p)
	}
}

// keySorter sorts key-value pairs with bounded memory: pairs are buffered
// up to ingestSortBytes, then sorted and written as a run to an unlinked
// temporary file; each merges the runs. Of pairs with one key, the one
// added last wins, as it would in a batch.
type keySorter struct {
	dir  string
	buf  []byte
	ents []sortEnt
	f    *os.File
	size int64
	runs []runSpan
}

// sortEntBytes is about what a file record and its key take: room for
// n of them is made up to ingestSortBytes, rather than grown by doubling
// (new memory costs a page fault per page, and doubling touched twice
// what was kept).
const sortEntBytes = 256

func newKeySorter(dir string, n int) *keySorter {
	return &keySorter{
		dir:  dir,
		buf:  make([]byte, 0, min(n*sortEntBytes, ingestSortBytes)+64<<10),
		ents: make([]sortEnt, 0, min(n, ingestSortBytes/sortEntBytes)),
	}
}

// sortEnt is a buffered pair: buf[off:mid] is the key, buf[mid:end] the
// value.
type sortEnt struct{ off, mid, end int }

func (s *keySorter) key(e sortEnt) []byte { return s.buf[e.off:e.mid] }

// add copies the pair k, v into the buffer.
func (s *keySorter) add(k, v []byte) error {
	off := len(s.buf)
	s.buf = append(append(s.buf, k...), v...)
	s.ents = append(s.ents, sortEnt{off: off, mid: off + len(k), end: len(s.buf)})
	if len(s.buf) >= ingestSortBytes {
		return s.spill()
	}
	return nil
}

// sort orders the buffer by key, and pairs of one key in the order they
// were added (by offset: pdqsort is faster than a stable sort).
func (s *keySorter) sort() {
	slices.SortFunc(s.ents, func(a, b sortEnt) int {
		if c := bytes.Compare(s.key(a), s.key(b)); c != 0 {
			return c
		}
		return a.off - b.off
	})
}

// superseded says whether sorted entry i has a later add of its key
// right after it.
func (s *keySorter) superseded(i int) bool {
	return i+1 < len(s.ents) && bytes.Equal(s.key(s.ents[i]), s.key(s.ents[i+1]))
}

// spill writes the buffer as a sorted run (key and value, each after its
// length).
func (s *keySorter) spill() error {
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, ingestPrefix+"run-")
		if err != nil {
			return fmt.Errorf("catalog: sort records: %w", err)
		}
		_ = os.Remove(f.Name()) // gone with the process, whatever happens
		s.f = f
	}
	s.sort()
	w := bufio.NewWriterSize(io.NewOffsetWriter(s.f, s.size), 1<<20)
	var n int64
	var hdr []byte
	for i, e := range s.ents {
		if s.superseded(i) {
			continue
		}
		hdr = binary.AppendUvarint(hdr[:0], uint64(e.mid-e.off))
		hdr = binary.AppendUvarint(hdr, uint64(e.end-e.mid))
		w.Write(hdr)
		w.Write(s.buf[e.off:e.end])
		n += int64(len(hdr) + e.end - e.off)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("catalog: sort records: %w", err)
	}
	s.runs = append(s.runs, runSpan{off: s.size, n: n})
	s.size += n
	s.buf, s.ents = s.buf[:0], s.ents[:0]
	return nil
}

// each calls fn with every pair in key order, one per key.
func (s *keySorter) each(fn func(k, v []byte) error) error {
	if len(s.runs) == 0 {
		s.sort()
		for i, e := range s.ents {
			if s.superseded(i) {
				continue
			}
			if err := fn(s.key(e), s.buf[e.mid:e.end]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(s.ents) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	h := &runHeap{}
	for i, r := range s.runs {
		rr := &sortRun{r: bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.n), 64<<10), seq: i}
		ok, err := rr.next()
		if err != nil {
			return err
		}
		if ok {
			h.rs = append(h.rs, rr)
		}
	}
	heap.Init(h)
	var last []byte
	for h.Len() > 0 {
		// Of equal keys the latest run's is kept (a run holds a key once):
		// the heap puts it first. Then every run at this key moves on.
		k, v := h.rs[0].k, h.rs[0].v
		last = append(last[:0], k...)
		if err := fn(k, v); err != nil {
			return err
		}
		for h.Len() > 0 && bytes.Equal(h.rs[0].k, last) {
			r := h.rs[0]
			ok, err := r.next()
			if err != nil {
				return err
			}
			if ok {
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
	}
	return nil
}

// close drops the buffer and the run file.
func (s *keySorter) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
	s.buf, s.ents = nil, nil
}

// runSpan is a run on the temporary file.
type runSpan struct{ off, n int64 }

// sortRun reads one run; k and v are its current pair.
type sortRun struct {
	r    *bufio.Reader
	seq  int
	k, v []byte
	buf  []byte
}

var errBadSortRun = errors.New("catalog: sort records: damaged run")

func (r *sortRun) next() (bool, error) {
	kl, err := binary.ReadUvarint(r.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, errBadSortRun
	}
	vl, err := binary.ReadUvarint(r.r)
	if err != nil {
		return false, errBadSortRun
	}
	n := int(kl + vl)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return false, errBadSortRun
	}
	r.k, r.v = r.buf[:kl], r.buf[kl:]
	return true, nil
}

// runHeap orders runs by their current key, the later run first among
// equal keys.
type runHeap struct{ rs []*sortRun }

func (h *runHeap) Len() int { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool {
	if c := bytes.Compare(h.rs[i].k, h.rs[j].k); c != 0 {
		return c < 0
	}
	return h.rs[i].seq > h.rs[j].seq
}
func (h *runHeap) Swap(i, j int) { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)    { h.rs = append(h.rs, x.(*sortRun)) }
func (h *runHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}
