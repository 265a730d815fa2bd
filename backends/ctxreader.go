package backends

import (
	"context"
	"io"
)

// ctxChunk is how much ctxReader hands out between checks of ctx: large
// enough that a 16 MiB pack takes a few writes, small enough that a
// cancel stops an upload within milliseconds.
const ctxChunk = 4 << 20

// ctxReader reads a byte slice and fails with ctx's error once ctx is done,
// so uploads through stores that ignore ctx while copying (rclone's local
// disk) stop on cancel. It implements io.WriterTo so io.Copy writes
// straight from the slice, without a 32 KiB bounce buffer.
type ctxReader struct {
	ctx  context.Context
	data []byte
	off  int
}

func newCtxReader(ctx context.Context, data []byte) *ctxReader {
	return &ctxReader{ctx: ctx, data: data}
}

// Read copies up to ctxChunk bytes into p.
func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), ctxChunk)], r.data[r.off:])
	r.off += n
	return n, nil
}

// WriteTo writes the rest of the slice to w in ctxChunk pieces.
func (r *ctxReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.off < len(r.data) {
		if err := r.ctx.Err(); err != nil {
			return total, err
		}
		end := min(r.off+ctxChunk, len(r.data))
		n, err := w.Write(r.data[r.off:end])
		r.off += n
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, r.ctx.Err()
}
