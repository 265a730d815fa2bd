package mongodb

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/stratabackup/strata/sources"
)

// spanner turns a collection's documents, read from the server in _id
// order, into spans for Writer.AddSpans. It walks the previous version's
// .bson alongside: a document byte-identical to the previous one with the
// same _id becomes part of a range of the previous file (the store refers
// to where it already lies, storing nothing), any other document is new
// data. Runs of unchanged documents make one span each, so a version costs
// its changed documents plus about two references per change, whatever the
// document size.
//
// Correctness never depends on the previous file: a range is emitted only
// for bytes compared equal to the new document. If the previous file
// cannot be read or is out of order, the rest is written as new data.
type spanner struct {
	next func() (bson.Raw, error) // the server's documents
	prev *sortedStream            // nil: no previous file, or it failed
	pc   io.Closer
	log  *slog.Logger
	path string

	runOff, runLen int64 // pending range of the previous file
	held           []byte
	holding        bool // held is a new document to return after the run
	done           bool

	// Reused and NewDocs count documents for the log and tests.
	Reused, NewDocs int64
}

// newSpanner opens the previous version's file at path when prev can read
// it; without one, every document is new data.
func newSpanner(ctx context.Context, prev sources.Previous, path string, next func() (bson.Raw, error), log *slog.Logger) *spanner {
	s := &spanner{next: next, log: log, path: path}
	pr, ok := prev.(sources.PreviousReader)
	if !ok {
		return s
	}
	if e, ok := pr.Lookup(path); !ok || e.Type != sources.TypeFile {
		return s
	}
	rc, err := pr.Open(ctx, path)
	if err != nil {
		log.Warn("previous version unreadable; storing every document anew", "file", path, "err", err)
		return s
	}
	s.prev, s.pc = &sortedStream{r: newDocReader(rc)}, rc
	if err := s.prev.advance(); err != nil {
		s.dropPrev(err)
	}
	return s
}

func (s *spanner) close() {
	if s.pc != nil {
		s.pc.Close()
	}
}

func (s *spanner) dropPrev(err error) {
	if errors.Is(err, errUnsorted) {
		s.log.Warn("previous version's documents are not in _id order; storing the rest anew", "file", s.path)
	} else {
		s.log.Warn("reading the previous version failed; storing the rest anew", "file", s.path, "err", err)
	}
	s.prev = nil
	s.close()
	s.pc = nil
}

// match returns where doc lies in the previous file, if it is there
// unchanged.
func (s *spanner) match(doc bson.Raw) (int64, bool) {
	if s.prev == nil {
		return 0, false
	}
	id, err := idValue(doc)
	if err != nil {
		return 0, false
	}
	for s.prev.doc != nil {
		c := compareValues(s.prev.id, id)
		if c > 0 {
			return 0, false // doc is new
		}
		hit := c == 0 && bytes.Equal(s.prev.doc, doc)
		end := s.prev.r.off
		start := end - int64(len(s.prev.doc))
		if err := s.prev.advance(); err != nil {
			s.dropPrev(err)
			return start, hit
		}
		if c == 0 {
			return start, hit
		}
		// c < 0: the previous document was deleted; look further.
	}
	return 0, false
}

// nextSpan implements the next function of Writer.AddSpans.
func (s *spanner) nextSpan() (sources.Span, error) {
	if s.holding {
		s.holding = false
		s.NewDocs++
		return sources.Span{Data: s.held}, nil
	}
	for !s.done {
		doc, err := s.next()
		if errors.Is(err, io.EOF) {
			s.done = true
			break
		}
		if err != nil {
			return sources.Span{}, err
		}
		if off, ok := s.match(doc); ok {
			s.Reused++
			if s.runLen > 0 && off == s.runOff+s.runLen {
				s.runLen += int64(len(doc))
				continue
			}
			run := s.flushRun()
			s.runOff, s.runLen = off, int64(len(doc))
			if run.Len > 0 {
				return run, nil
			}
			continue
		}
		if s.runLen > 0 {
			s.held = append(s.held[:0], doc...)
			s.holding = true
			return s.flushRun(), nil
		}
		s.NewDocs++
		return sources.Span{Data: doc}, nil
	}
	if run := s.flushRun(); run.Len > 0 {
		return run, nil
	}
	return sources.Span{}, io.EOF
}

func (s *spanner) flushRun() sources.Span {
	sp := sources.Span{Off: s.runOff, Len: s.runLen}
	s.runOff, s.runLen = 0, 0
	return sp
}
