package relational

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// A count merge cannot start before the server has scanned the whole
// table (the changed rows come sorted), and then it read the previous
// file (1 GiB of rows, zstd-decoded, split into lines) on the client
// while the server sat idle: on the bench table 3 s of server scan, then
// 2.6 s of merge. keysAhead reads the previous file on a goroutine of its
// own from the moment the scan starts, keeping of each row only what the
// merge needs, its integer key and length (the offsets follow: rows are
// consecutive), delta- and varint-encoded (3 bytes a row on the bench
// table), up to aheadBudget bytes waiting; the merge then walks keys in
// memory.

// aheadBudget bounds the encoded keys waiting for the merge: 64 MiB holds
// about 20 million rows of a table keyed by one dense integer.
const aheadBudget = 64 << 20

// aheadBatch is how many bytes of encoded keys one batch carries.
const aheadBatch = 256 << 10

// keysAhead is the previous file's rows as (key, offset, length), read
// ahead.
type keysAhead struct {
	ch     chan keyBatch // closed when the goroutine ends
	cancel context.CancelFunc

	cur  keyBatch
	pos  int
	last []int64 // the key returned last (the base of the next delta)
	off  int64   // the offset of the next row
	err  error   // sticky: io.EOF or the failure
}

// keyBatch is encoded rows, or the reader's end (err).
type keyBatch struct {
	enc []byte
	err error
}

// startKeysAhead reads lr's lines on a goroutine until its end, an error,
// or close; cols are the key's field positions.
func startKeysAhead(ctx context.Context, lr *lineReader, cols []int) *keysAhead {
	ctx, cancel := context.WithCancel(ctx)
	a := &keysAhead{ch: make(chan keyBatch, aheadBudget/aheadBatch), cancel: cancel,
		last: make([]int64, len(cols)), off: lr.off}
	go a.read(ctx, lr, cols)
	return a
}

func (a *keysAhead) read(ctx context.Context, lr *lineReader, cols []int) {
	defer close(a.ch)
	send := func(b keyBatch) bool {
		select {
		case a.ch <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var key []int64
	last := make([]int64, len(cols)) // the base of the first row's deltas too
	enc := make([]byte, 0, aheadBatch+64)
	for n := 0; ; n++ {
		off := lr.off
		line, err := lr.next()
		if err == nil {
			key, err = intKeyOf(key[:0], line, cols)
			if err == nil && n > 0 && cmpKeys(key, last) <= 0 {
				err = fmt.Errorf("its rows are not in key order at offset %d", off)
			}
		}
		if err != nil {
			if len(enc) > 0 && !send(keyBatch{enc: enc}) {
				return
			}
			send(keyBatch{err: err})
			return
		}
		for i, k := range key {
			enc = binary.AppendVarint(enc, k-last[i])
		}
		enc = binary.AppendUvarint(enc, uint64(len(line)))
		last = append(last[:0], key...)
		if len(enc) >= aheadBatch {
			if !send(keyBatch{enc: enc}) {
				return
			}
			enc = make([]byte, 0, aheadBatch+64)
		}
	}
}

// next returns the next row's key (in dst), offset and length, io.EOF
// after the last, or the error that stopped the reading.
func (a *keysAhead) next(dst []int64) ([]int64, int64, int32, error) {
	for a.err == nil && a.pos >= len(a.cur.enc) {
		var ok bool
		a.cur, ok = <-a.ch
		a.pos, a.err = 0, a.cur.err
		if !ok {
			a.err = errors.New("the read-ahead of the previous file stopped")
		}
	}
	if a.err != nil {
		return dst, 0, 0, a.err
	}
	dst = dst[:0]
	for i := range a.last {
		d, n := binary.Varint(a.cur.enc[a.pos:])
		a.pos += n
		a.last[i] += d
		dst = append(dst, a.last[i])
	}
	size, n := binary.Uvarint(a.cur.enc[a.pos:])
	a.pos += n
	off := a.off
	a.off += int64(size)
	return dst, off, int32(size), nil
}

// close stops the reading and waits for the goroutine to end.
func (a *keysAhead) close() {
	a.cancel()
	for range a.ch {
	}
	if a.err == nil {
		a.err = errors.New("the read-ahead of the previous file was closed")
	}
}
