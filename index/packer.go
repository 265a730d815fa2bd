package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/stratabackup/strata/backends"
)

// packer collects compressed blobs into packs and uploads full packs in the
// background, at most uploadsInFlight at a time, so that compression never
// waits for the backend unless the backend is the bottleneck.
type packer struct {
	be       backends.Backend
	mu       sync.Mutex
	cur      *packBuilder
	sem      chan struct{}
	wg       sync.WaitGroup
	errMu    sync.Mutex
	err      error
	packs    []indexPack
	uploaded int64
}

const uploadsInFlight = 4

func newPacker(be backends.Backend) *packer {
	return &packer{be: be, cur: newPackBuilder(), sem: make(chan struct{}, uploadsInFlight)}
}

// add appends a blob; it may block while earlier packs upload.
func (p *packer) add(ctx context.Context, id ID, typ byte, blob []byte, rawLen int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failed(); err != nil {
		return err
	}
	p.cur.add(id, typ, blob, rawLen)
	if p.cur.buf.Len() >= packTarget {
		full := p.cur
		p.cur = newPackBuilder()
		return p.upload(ctx, full)
	}
	return nil
}

func (p *packer) upload(ctx context.Context, b *packBuilder) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.sem; p.wg.Done() }()
		id, data := b.finish()
		err := p.put(ctx, packName(id), data)
		size := len(data)
		b.release()
		if err != nil {
			p.fail(fmt.Errorf("upload pack %s: %w", packName(id), err))
			return
		}
		p.errMu.Lock()
		p.packs = append(p.packs, indexPack{ID: id, Blobs: b.blobs})
		p.uploaded += int64(size)
		p.errMu.Unlock()
	}()
	return nil
}

func (p *packer) fail(err error) {
	p.errMu.Lock()
	if p.err == nil {
		p.err = err
	}
	p.errMu.Unlock()
}

func (p *packer) failed() error {
	p.errMu.Lock()
	defer p.errMu.Unlock()
	return p.err
}

// put writes a pack, deferring its durability to flush where the backend
// allows (backends.DeferredPutter).
func (p *packer) put(ctx context.Context, name string, data []byte) error {
	if dp, ok := p.be.(backends.DeferredPutter); ok {
		return dp.PutDeferred(ctx, name, data)
	}
	return p.be.Put(ctx, name, data)
}

// flush uploads the last pack, waits for every upload and makes them
// durable; it returns the packs written, for the session's index file.
func (p *packer) flush(ctx context.Context) ([]indexPack, error) {
	p.mu.Lock()
	if len(p.cur.blobs) > 0 {
		if err := p.upload(ctx, p.cur); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.cur = newPackBuilder()
	}
	p.mu.Unlock()
	p.wg.Wait()
	if err := p.failed(); err != nil {
		return nil, err
	}
	if dp, ok := p.be.(backends.DeferredPutter); ok {
		if err := dp.Sync(ctx); err != nil {
			return nil, fmt.Errorf("make packs durable: %w", err)
		}
	}
	return p.packs, nil
}
