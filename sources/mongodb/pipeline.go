package mongodb

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/stratabackup/strata/sources"
)

// batchBytes is the size at which a range reader hands a batch of
// documents to the writer.
const batchBytes = 1 << 20

// rangeReader reads a collection's _id ranges in parallel, up to workers at
// a time, and yields their documents in order: all of range 0, then range 1…
// Ranges start in order and each holds its worker slot until it has been
// read, so the range the consumer waits for is always running. Memory is
// bounded by workers × (channel depth + 1) batches. Each range the
// consumer finishes is reported as progress ("ranges", done of total).
type rangeReader struct {
	ctx    context.Context
	cancel context.CancelFunc
	chans  []chan []byte
	wg     sync.WaitGroup
	rep    sources.Reporter

	mu  sync.Mutex
	err error

	cur  int    // range being consumed
	buf  []byte // rest of the current batch
	docs int64
	size int64
}

// readRanges starts reading; the caller must call close.
func readRanges(ctx context.Context, q rangeQuery, ranges []idRange, workers int, rep sources.Reporter) *rangeReader {
	ctx, cancel := context.WithCancel(ctx)
	rr := &rangeReader{ctx: ctx, cancel: cancel, chans: make([]chan []byte, len(ranges)), rep: rep}
	rep.Report(sources.Event{Step: "ranges", Total: int64(len(ranges))})
	for i := range rr.chans {
		rr.chans[i] = make(chan []byte, 2)
	}
	sem := make(chan struct{}, workers)
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
			go func(i int, r idRange) {
				defer rr.wg.Done()
				defer func() { <-sem }()
				defer close(rr.chans[i])
				if err := q.read(ctx, r, rr.chans[i]); err != nil {
					rr.fail(err)
				}
			}(i, r)
		}
	}()
	return rr
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

// next returns the next document in _id order, or io.EOF. The document
// is valid until the following call. Once the context is done it fails
// at once, even with batches still buffered, so that a cancelled backup
// stops handing documents to the writer.
func (rr *rangeReader) next() (bson.Raw, error) {
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
	l := int(binary.LittleEndian.Uint32(rr.buf))
	doc := bson.Raw(rr.buf[:l])
	rr.buf = rr.buf[l:]
	rr.docs++
	rr.size += int64(l)
	return doc, nil
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

// rangeQuery is how one range is read: find, sorted by _id, optionally at
// a snapshot read concern.
type rangeQuery struct {
	coll        *mongo.Collection
	batchSize   int
	readConcern bson.D // nil for the server's default
}

// read sends the range's documents, in batches of about batchBytes, to out.
func (q rangeQuery) read(ctx context.Context, r idRange, out chan<- []byte) error {
	cur, err := q.cursor(ctx, r)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	var batch []byte
	for cur.Next(ctx) {
		batch = append(batch, cur.Current...)
		if len(batch) >= batchBytes || cur.RemainingBatchLength() == 0 && len(batch) >= batchBytes/4 {
			if err := send(ctx, out, batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read %s.%s: %w", q.coll.Database().Name(), q.coll.Name(), err)
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

func (q rangeQuery) cursor(ctx context.Context, r idRange) (*mongo.Cursor, error) {
	name := q.coll.Database().Name() + "." + q.coll.Name()
	sort := bson.D{{Key: "_id", Value: 1}}
	if q.readConcern == nil {
		opts := options.Find().SetSort(sort).SetBatchSize(int32(q.batchSize)).SetAllowDiskUse(true)
		cur, err := q.coll.Find(ctx, r.filter(), opts)
		if err != nil {
			return nil, fmt.Errorf("find in %s: %w", name, err)
		}
		return cur, nil
	}
	cmd := bson.D{
		{Key: "find", Value: q.coll.Name()},
		{Key: "filter", Value: r.filter()},
		{Key: "sort", Value: sort},
		{Key: "batchSize", Value: q.batchSize},
		{Key: "readConcern", Value: q.readConcern},
	}
	cur, err := q.coll.Database().RunCommandCursor(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("find at snapshot in %s: %w", name, err)
	}
	cur.SetBatchSize(int32(q.batchSize))
	return cur, nil
}
