package relational

import (
	"bytes"
	"context"
	"io"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// batchBytes is the size at which a range reader hands a batch of rows on.
const batchBytes = 1 << 20

// rangeReader reads a table's key ranges in parallel, up to workers at a
// time, and yields their rows in order: all of range 0, then range 1...
// Ranges start in order and each holds its worker slot until read, so the
// range the consumer waits for is always running. Memory is bounded by
// workers × (channel depth + 1) batches.
type rangeReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	chans  []chan []byte
	wg     sync.WaitGroup
	rep    sources.Reporter

	mu  sync.Mutex
	err error

	cur  int
	buf  []byte
	rows int64
	size int64
}

// readFunc reads one range, handing each row to emit.
type readFunc func(ctx context.Context, r keyRange, emit func([]byte) error) error

// readRanges starts reading; the caller must call close.
func readRanges(ctx context.Context, read readFunc, ranges []keyRange, workers int, rep sources.Reporter) *rangeReader {
	ctx, cancel := context.WithCancel(ctx)
	rr := &rangeReader{ctx: ctx, cancel: cancel, chans: make([]chan []byte, len(ranges)), rep: rep}
	rep.Report(sources.Event{Step: "ranges", Total: int64(len(ranges))})
	for i := range rr.chans {
		rr.chans[i] = make(chan []byte, 2)
	}
	sem := make(chan struct{}, max(workers, 1))
	rr.wg.Add(1)
	go func() {
		defer rr.wg.Done()
		for i, r := range ranges {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				for _, ch := range rr.chans[i:] {
					close(ch)
				}
				return
			}
			rr.wg.Add(1)
			go func(i int, r keyRange) {
				defer rr.wg.Done()
				defer func() { <-sem }()
				defer close(rr.chans[i])
				if err := readBatched(ctx, read, r, rr.chans[i]); err != nil {
					rr.fail(err)
				}
			}(i, r)
		}
	}()
	return rr
}

// readBatched reads one range and sends its rows in batches.
func readBatched(ctx context.Context, read readFunc, r keyRange, out chan<- []byte) error {
	var batch []byte
	err := read(ctx, r, func(line []byte) error {
		batch = append(batch, line...)
		if len(batch) < batchBytes {
			return nil
		}
		b := batch
		batch = nil
		return send(ctx, out, b)
	})
	if err != nil {
		return err
	}
	if len(batch) > 0 {
		return send(ctx, out, batch)
	}
	return nil
}

func send(ctx context.Context, out chan<- []byte, b []byte) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (rr *rangeReader) fail(err error) {
	rr.mu.Lock()
	if rr.err == nil {
		rr.err = err
	}
	rr.mu.Unlock()
	rr.cancel()
}

func (rr *rangeReader) failed() error {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.err
}

// next returns the next row in key order, or io.EOF; the row is valid
// until the following call. Once the context is done it fails at once.
func (rr *rangeReader) next() ([]byte, error) {
	if err := rr.ctx.Err(); err != nil {
		if ferr := rr.failed(); ferr != nil {
			return nil, ferr
		}
		return nil, err
	}
	for len(rr.buf) == 0 {
		if rr.cur >= len(rr.chans) {
			return nil, io.EOF
		}
		b, ok := <-rr.chans[rr.cur]
		if !ok {
			if err := rr.failed(); err != nil {
				return nil, err
			}
			if err := rr.ctx.Err(); err != nil {
				return nil, err
			}
			rr.cur++
			rr.rep.Report(sources.Event{Step: "ranges", Done: int64(rr.cur), Total: int64(len(rr.chans))})
			continue
		}
		rr.buf = b
	}
	n := bytes.IndexByte(rr.buf, '\n') + 1
	line := rr.buf[:n]
	rr.buf = rr.buf[n:]
	rr.rows++
	rr.size += int64(n)
	if rr.rows%10000 == 0 {
		rr.rep.Report(sources.Event{Step: "rows", Done: rr.rows})
	}
	return line, nil
}

// close stops the readers and waits for them.
func (rr *rangeReader) close() {
	rr.cancel()
	for _, ch := range rr.chans {
		go func(ch chan []byte) {
			for range ch {
			}
		}(ch)
	}
	rr.wg.Wait()
}
