package cassandra

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/zeebo/blake3"

	"github.com/stratabackup/strata/sources"
)

// lineKey identifies a statement line by a 128-bit hash of its bytes.
type lineKey [16]byte

func keyOf(line []byte) lineKey {
	var k lineKey
	h := blake3.Sum256(line)
	copy(k[:], h[:16])
	return k
}

// prevLines maps each statement line of the previous version's part to
// where it lies in that file. Lines are unique within a part (each holds
// its row's key and its group's write time), so an equal line is the
// same cells, unchanged.
type prevLines map[lineKey][2]int64 // offset, length

// loadPrevLines reads the previous version's file at path, if prev can
// read it; nil when there is none or it cannot be read (then every line
// is stored anew: correctness never depends on it).
func loadPrevLines(ctx context.Context, prev sources.Previous, path string) (prevLines, error) {
	pr, ok := prev.(sources.PreviousReader)
	if !ok {
		return nil, nil
	}
	if e, ok := pr.Lookup(path); !ok || e.Type != sources.TypeFile {
		return nil, nil
	}
	rc, err := pr.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m := prevLines{}
	lr := newLineReader(rc)
	for {
		off := lr.off
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		if !isComment(line) {
			m[keyOf(line)] = [2]int64{off, int64(len(line))}
		}
	}
}

func isComment(line []byte) bool {
	return len(line) < 3 || bytes.HasPrefix(line, []byte("--"))
}

// lineReader reads '\n'-terminated lines of any length; a line keeps its
// newline.
type lineReader struct {
	r   *bufio.Reader
	buf []byte
	off int64
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line (valid until the following call), or
// io.EOF at the end; a last line without newline is returned as is.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	for {
		frag, err := l.r.ReadSlice('\n')
		l.buf = append(l.buf, frag...)
		if err == nil || (errors.Is(err, io.EOF) && len(l.buf) > 0) {
			l.off += int64(len(l.buf))
			return l.buf, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}

// spanBytes is the size at which new lines are handed over as one span.
const spanBytes = 64 << 10

// spanner turns statement lines into spans for Writer.AddSpans: a line
// found in the previous version's part becomes (part of) a reference to
// it, any other is new data; runs of adjacent reused lines make one span.
type spanner struct {
	prev  prevLines
	queue []sources.Span
	data  []byte
	// lent is the data of the span pop returned last: the writer is done
	// with it at the next pop (AddSpans may reuse a span's Data after next
	// returns again), and it becomes spare, the next span's buffer. New
	// bytes were appended to a fresh nil slice for each span, grown by
	// doubling to 64 KiB: a sixth of a 1 GiB table backup's CPU.
	lent, spare []byte
	run         sources.Span // pending reference, Len 0 when none
	Reused      int64
	NewRows     int64
}

// add takes one line (copied) and queues the spans it completes.
func (s *spanner) add(line []byte) {
	if loc, ok := s.prev[keyOf(line)]; ok && s.prev != nil {
		s.Reused++
		if s.run.Len > 0 && loc[0] == s.run.Off+s.run.Len {
			s.run.Len += loc[1]
			return
		}
		s.flushData()
		s.flushRun()
		s.run = sources.Span{Off: loc[0], Len: loc[1]}
		return
	}
	s.NewRows++
	s.flushRun()
	s.appendData(line)
	if len(s.data) >= spanBytes {
		s.flushData()
	}
}

// addData queues bytes that are never looked up (the header).
func (s *spanner) addData(b []byte) {
	s.flushRun()
	s.appendData(b)
}

// appendData adds b to the pending new bytes, starting them in the spare
// buffer or in one with room for a whole span.
func (s *spanner) appendData(b []byte) {
	if s.data == nil {
		if s.spare != nil {
			s.data, s.spare = s.spare, nil
		} else {
			s.data = make([]byte, 0, max(spanBytes+spanBytes/4, len(b)))
		}
	}
	s.data = append(s.data, b...)
}

func (s *spanner) flushRun() {
	if s.run.Len > 0 {
		s.queue = append(s.queue, s.run)
		s.run = sources.Span{}
	}
}

func (s *spanner) flushData() {
	if len(s.data) > 0 {
		s.queue = append(s.queue, sources.Span{Data: s.data})
		s.data = nil
	}
}

// flush queues everything pending.
func (s *spanner) flush() {
	s.flushData()
	s.flushRun()
}

// pop returns the next queued span; its Data is reused after the next
// pop.
func (s *spanner) pop() (sources.Span, bool) {
	if s.lent != nil {
		s.spare, s.lent = s.lent[:0], nil
	}
	if len(s.queue) == 0 {
		return sources.Span{}, false
	}
	sp := s.queue[0]
	s.queue = s.queue[1:]
	s.lent = sp.Data
	return sp, true
}

// errLine wraps a line error with the file it came from.
func errLine(path string, err error) error { return fmt.Errorf("%s: %w", path, err) }
