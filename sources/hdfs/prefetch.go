package hdfs

import (
	"context"
	"io"
)

// prefetch reads r ahead in a goroutine, up to depth buffers of size
// bytes, so that a DataNode streams the next bytes while the store chunks
// the current ones. Close stops the goroutine.
func prefetch(ctx context.Context, r io.Reader, size, depth int) io.ReadCloser {
	ctx, cancel := context.WithCancel(ctx)
	p := &prefetcher{ctx: ctx, bufs: make(chan chunk, depth), free: make(chan []byte, depth+2), cancel: cancel, done: make(chan struct{})}
	for range depth + 2 {
		p.free <- make([]byte, size)
	}
	go p.fill(ctx, r)
	return p
}

type chunk struct {
	data []byte
	err  error
}

type prefetcher struct {
	bufs   chan chunk
	free   chan []byte
	cur    chunk
	off    int
	held   []byte
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *prefetcher) fill(ctx context.Context, r io.Reader) {
	defer close(p.done)
	defer close(p.bufs)
	for {
		var buf []byte
		select {
		case buf = <-p.free:
		case <-ctx.Done():
			return
		}
		n, err := io.ReadFull(r, buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case p.bufs <- chunk{data: buf[:n], err: err}:
		case <-ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (p *prefetcher) Read(b []byte) (int, error) {
	for p.off >= len(p.cur.data) {
		if p.cur.err != nil {
			return 0, p.cur.err
		}
		if p.held != nil {
			p.free <- p.held[:cap(p.held)]
			p.held = nil
		}
		c, ok := <-p.bufs
		if !ok {
			if err := p.ctx.Err(); err != nil {
				return 0, err
			}
			return 0, io.ErrUnexpectedEOF
		}
		p.cur, p.off, p.held = c, 0, c.data
	}
	n := copy(b, p.cur.data[p.off:])
	p.off += n
	return n, nil
}

// Close stops the read-ahead and waits for it.
func (p *prefetcher) Close() error {
	p.cancel()
	<-p.done
	return nil
}
