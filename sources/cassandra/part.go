package cassandra

import (
	"context"
	"io"
	"sync"
)

// partReader yields a part's rows in token order: its ranges are read
// in parallel, up to ahead at a time (the one being written and the
// next ones, so that a range's first page is ready when the writer
// reaches it), and consumed in order. Memory is bounded by ahead ×
// (channel depth + 1) pages.
type partReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	sc     *scanner
	ranges []int // indices into the backup's ranges
	all    []tokenRange
	chans  []chan page
	errs   []error
	wg     sync.WaitGroup

	started int
	cur     int
	rows    []rowVal
	pos     int
}

func newPartReader(ctx context.Context, sc *scanner, all []tokenRange, ranges []int, ahead int) *partReader {
	ctx, cancel := context.WithCancel(ctx)
	p := &partReader{ctx: ctx, cancel: cancel, sc: sc, ranges: ranges, all: all,
		chans: make([]chan page, len(ranges)), errs: make([]error, len(ranges))}
	for p.started < min(ahead, len(ranges)) {
		p.start()
	}
	return p
}

// start begins reading the next range not yet started.
func (p *partReader) start() {
	i := p.started
	p.started++
	ch := make(chan page, 2)
	p.chans[i] = ch
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(ch)
		p.errs[i] = p.sc.readRange(p.ctx, p.ranges[i], p.all[p.ranges[i]], ch)
	}()
}

// next returns the next row, or io.EOF after the part's last.
func (p *partReader) next() (*rowVal, error) {
	for p.pos >= len(p.rows) {
		if err := p.ctx.Err(); err != nil {
			return nil, err
		}
		if p.cur >= len(p.ranges) {
			return nil, io.EOF
		}
		pg, ok := <-p.chans[p.cur]
		if !ok {
			if err := p.errs[p.cur]; err != nil {
				return nil, err
			}
			p.chans[p.cur] = nil
			p.cur++
			if p.started < len(p.ranges) {
				p.start()
			}
			continue
		}
		p.rows, p.pos = pg.rows, 0
	}
	r := &p.rows[p.pos]
	p.pos++
	return r, nil
}

// close stops the reads and waits for them.
func (p *partReader) close() {
	p.cancel()
	for _, ch := range p.chans {
		if ch != nil {
			go func(ch chan page) {
				for range ch {
				}
			}(ch)
		}
	}
	p.wg.Wait()
}
