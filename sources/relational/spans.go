package relational

import (
	"context"
	"crypto/sha256"
	"errors"
	"hash/maphash"
	"io"
	"log/slog"

	"github.com/stratabackup/strata/sources"
)

// lineHash is a row's content hash: 128 bits of SHA-256, as strong as the
// store's own content addressing for deciding that two rows are equal.
type lineHash [16]byte

func hashLine(line []byte) lineHash {
	s := sha256.Sum256(line)
	var h lineHash
	copy(h[:], s[:16])
	return h
}

// prevRow is where a row lies in the previous version's file.
type prevRow struct {
	off  int64
	n    int32
	hash lineHash
	seen bool // the newer version has this key (diff)
}

// rowIndex maps a hash of each row's key fields to where the row lies in
// a data file. Keys whose hashes collide keep the first row: a row missed
// that way is only stored anew, never mistaken, since the line hash is
// compared too.
type rowIndex struct {
	seed maphash.Seed
	rows map[uint64]*prevRow
	key  []int
}

func newRowIndex(key []int) *rowIndex {
	return &rowIndex{seed: maphash.MakeSeed(), rows: map[uint64]*prevRow{}, key: key}
}

func (ix *rowIndex) keyHash(buf, line []byte) ([]byte, uint64) {
	buf = keyOf(buf[:0], line, ix.key)
	return buf, maphash.Bytes(ix.seed, buf)
}

// load indexes every line of r, which starts at offset base of its file.
func (ix *rowIndex) load(ctx context.Context, r io.Reader, base int64) error {
	lr := newLineReader(r)
	lr.off = base
	var buf []byte
	var h uint64
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		start := lr.off
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		buf, h = ix.keyHash(buf, line)
		if _, dup := ix.rows[h]; !dup {
			ix.rows[h] = &prevRow{off: start, n: int32(len(line)), hash: hashLine(line)}
		}
	}
}

// lookup returns the previous row with line's key, if its content is
// the same.
func (ix *rowIndex) lookup(buf, line []byte) ([]byte, *prevRow, bool) {
	buf, h := ix.keyHash(buf, line)
	p, ok := ix.rows[h]
	if !ok || int(p.n) != len(line) || p.hash != hashLine(line) {
		return buf, p, false
	}
	return buf, p, true
}

// openIndex indexes the previous version's file at path, or returns nil
// when there is none or it cannot be read (every row is then new).
func openIndex(ctx context.Context, prev sources.Previous, path string, key []int, log *slog.Logger) *rowIndex {
	pr, ok := prev.(sources.PreviousReader)
	if !ok {
		return nil
	}
	if e, ok := pr.Lookup(path); !ok || e.Type != sources.TypeFile {
		return nil
	}
	rc, err := pr.Open(ctx, path)
	if err != nil {
		log.Warn("previous version unreadable; storing every row anew", "file", path, "err", err)
		return nil
	}
	defer rc.Close()
	ix := newRowIndex(key)
	if err := ix.load(ctx, rc, 0); err != nil {
		log.Warn("reading the previous version failed; storing every row anew", "file", path, "err", err)
		return nil
	}
	return ix
}

// spanner turns rows into spans for Writer.AddSpans: a row equal to a row
// of the previous version (same key, same bytes by hash) becomes a range
// of the previous file, and adjacent ones merge into one range; any other
// row is new data, batched.
type spanner struct {
	next func() ([]byte, error)
	ix   *rowIndex // nil: no previous file
	// merge, when set, resolves the lines instead of ix (a change read,
	// or a read by blocks).
	merge resolver

	runOff, runLen int64
	pending        []byte // new rows not yet returned
	batch          []byte // the slice handed out last
	keyBuf         []byte
	done           bool

	Reused, New int64
	Size        int64 // bytes of the file written
}

// resolver tells, for one line a read yields, the row to write or where
// the unchanged row (or rows) lie in the previous file.
type resolver interface {
	resolve(line []byte) (row []byte, p prevRow, same bool, err error)
}

// spanBatch is how many bytes of new rows make one span.
const spanBatch = 256 << 10

// nextSpan implements the next function of Writer.AddSpans.
func (s *spanner) nextSpan() (sources.Span, error) {
	for !s.done {
		line, err := s.next()
		if errors.Is(err, io.EOF) {
			s.done = true
			break
		}
		if err != nil {
			return sources.Span{}, err
		}
		row, p, same, err := s.resolve(line)
		if err != nil {
			return sources.Span{}, err
		}
		if sp, ok := s.add(row, p, same); ok {
			return sp, nil
		}
	}
	if len(s.pending) > 0 {
		return s.flushNew(), nil
	}
	if s.runLen > 0 {
		return s.flushRun(), nil
	}
	return sources.Span{}, io.EOF
}

// resolve finds whether line is a row of the previous file: by the
// index of its key, or through the merge of a change read.
func (s *spanner) resolve(line []byte) ([]byte, prevRow, bool, error) {
	if s.merge != nil {
		return s.merge.resolve(line)
	}
	if s.ix == nil {
		return line, prevRow{}, false, nil
	}
	var p *prevRow
	var same bool
	s.keyBuf, p, same = s.ix.lookup(s.keyBuf, line)
	if !same {
		return line, prevRow{}, false, nil
	}
	return line, *p, true, nil
}

// add takes one row (same: it is the previous file's row at p) and
// returns a span when one is complete.
func (s *spanner) add(line []byte, p prevRow, same bool) (sources.Span, bool) {
	if !same {
		s.New++
		s.Size += int64(len(line))
		var out sources.Span
		flushed := false
		if s.runLen > 0 {
			out, flushed = s.flushRun(), true
		}
		s.pending = append(s.pending, line...)
		if !flushed && len(s.pending) >= spanBatch {
			return s.flushNew(), true
		}
		return out, flushed
	}
	s.Reused++
	s.Size += int64(p.n)
	if s.runLen > 0 && p.off == s.runOff+s.runLen {
		s.runLen += int64(p.n)
		return sources.Span{}, false
	}
	var out sources.Span
	flushed := false
	if len(s.pending) > 0 {
		out, flushed = s.flushNew(), true
	} else if s.runLen > 0 {
		out, flushed = s.flushRun(), true
	}
	s.runOff, s.runLen = p.off, int64(p.n)
	return out, flushed
}

func (s *spanner) flushRun() sources.Span {
	sp := sources.Span{Off: s.runOff, Len: s.runLen}
	s.runOff, s.runLen = 0, 0
	return sp
}

// flushNew hands out the pending new rows; the slice stays valid until
// the next call of nextSpan, as AddSpans allows.
func (s *spanner) flushNew() sources.Span {
	s.batch, s.pending = s.pending, s.batch[:0]
	return sources.Span{Data: s.batch}
}
