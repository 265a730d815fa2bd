package hdfs

import (
	"context"
	"io"
	"sync"
)

// prefetchBuf is the size of one read-ahead buffer.
const prefetchBuf = 1 << 20

// bufs holds read-ahead buffers between files: allocating (and zeroing)
// depth+2 fresh megabytes per file cost a backup of many small files more
// CPU than its reads.
var bufs = sync.Pool{New: func() any { b := make([]byte, prefetchBuf); return &b }}

// prefetch reads r ahead in a goroutine, up to depth buffers of 1 MiB,
// so that a DataNode streams the next bytes while the store chunks the
// current ones. size is how many bytes r holds: one buffer or less is
// read directly, since there is nothing to read ahead of. Close stops the
// goroutine and returns the buffers; r must not be read after Close.
func prefetch(ctx context.Context, r io.Reader, size int64, depth int) io.ReadCloser {
	if size <= prefetchBuf {
		return io.NopCloser(r)
	}
	ctx, cancel := context.WithCancel(ctx)
	n := depth + 2
	p := &prefetcher{ctx: ctx, bufs: make(chan chunk, depth), free: make(chan *[]byte, n), cancel: cancel, done: make(chan struct{})}
	for range n {
		p.free <- bufs.Get().(*[]byte)
	}
	go p.fill(ctx, r)
	return p
}

type chunk struct {
	buf  *[]byte
	data []byte
	err  error
}

type prefetcher struct {
	bufs   chan chunk
	free   chan *[]byte
	cur    chunk
	off    int
	held   *[]byte
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

func (p *prefetcher) fill(ctx context.Context, r io.Reader) {
	defer close(p.done)
	defer close(p.bufs)
	for {
		var buf *[]byte
		select {
		case buf = <-p.free:
		case <-ctx.Done():
			return
		}
		n, err := io.ReadFull(r, *buf)
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		select {
		case p.bufs <- chunk{buf: buf, data: (*buf)[:n], err: err}:
		case <-ctx.Done():
			p.free <- buf
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
			p.free <- p.held
			p.held = nil
		}
		c, ok := <-p.bufs
		if !ok {
			if err := p.ctx.Err(); err != nil {
				return 0, err
			}
			return 0, io.ErrUnexpectedEOF
		}
		p.cur, p.off, p.held = c, 0, c.buf
	}
	n := copy(b, p.cur.data[p.off:])
	p.off += n
	return n, nil
}

// Close stops the read-ahead, waits for it and returns its buffers to
// the pool.
func (p *prefetcher) Close() error {
	p.cancel()
	<-p.done
	if p.held != nil {
		bufs.Put(p.held)
		p.held = nil
	}
	p.cur = chunk{err: io.ErrClosedPipe}
	for c := range p.bufs {
		bufs.Put(c.buf)
	}
	for {
		select {
		case b := <-p.free:
			bufs.Put(b)
		default:
			return nil
		}
	}
}
