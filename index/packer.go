package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// packer collects compressed blobs into packs and uploads full packs in the
// background, at most uploadsInFlight at a time, so that compression never
// waits for the backend unless the backend is the bottleneck.
type packer struct {
	be       backends.Backend
	mu       sync.Mutex
	cur      *format.PackBuilder
	sem      chan struct{}
	wg       sync.WaitGroup
	errMu    sync.Mutex
	err      error
	packs    []format.IndexPack
	uploaded int64
}

const uploadsInFlight = 4

func newPacker(be backends.Backend) *packer {
	return &packer{be: be, cur: format.NewPackBuilder(), sem: make(chan struct{}, uploadsInFlight)}
}

// add appends a blob; it may block while earlier packs upload.
func (p *packer) add(ctx context.Context, id ID, typ byte, blob []byte, rawLen int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.failed(); err != nil {
		return err
	}
	p.cur.Add(id, typ, blob, rawLen)
	if p.cur.Len() >= format.PackTarget {
		full := p.cur
		p.cur = format.NewPackBuilder()
		return p.upload(ctx, full)
	}
	return nil
}

func (p *packer) upload(ctx context.Context, b *format.PackBuilder) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.sem; p.wg.Done() }()
		id, data := b.Finish()
		err := p.put(ctx, format.PackName(id), data)
		size := len(data)
		b.Release()
		if err != nil {
			p.fail(fmt.Errorf("upload pack %s: %w", format.PackName(id), err))
			return
		}
		p.errMu.Lock()
		p.packs = append(p.packs, format.IndexPack{ID: id, Blobs: b.Blobs()})
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
func (p *packer) flush(ctx context.Context) ([]format.IndexPack, error) {
	p.mu.Lock()
	if len(p.cur.Blobs()) > 0 {
		if err := p.upload(ctx, p.cur); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		p.cur = format.NewPackBuilder()
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
