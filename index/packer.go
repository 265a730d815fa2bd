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
	// indexEvery, when set, writes an index file whenever the packs
	// uploaded and not yet indexed hold that many blobs, instead of one
	// at the end: a large backup's index no longer sits whole in memory
	// (it was 54 MB of JSON for 80,000 files, at the backup's peak).
	indexEvery int
	blobs      int // in packs
}

// maxPackBlobs ends a pack of many tiny blobs before it is full: a pack's
// blobs are indexed together, and a 16 MiB pack of a million-file tree's
// 60-byte files held 250,000 of them, a 40 MB index in memory at once.
const maxPackBlobs = 20000

// sessionIndexBlobs is how many blobs a backup's index part collects
// before it is written: the packs uploaded by then, so a part holds that
// many plus at most a few packs' worth, a few MB of JSON.
var sessionIndexBlobs = 20000

const uploadsInFlight = 4

func newPacker(be backends.Backend) *packer {
	return &packer{be: be, sem: make(chan struct{}, uploadsInFlight)}
}

// begin starts the next pack: written to the backend as it fills where
// the backend takes streams (local disk: no pack in memory), else in
// memory.
func (p *packer) begin(ctx context.Context) (*format.PackBuilder, error) {
	if sp, ok := p.be.(backends.StreamPutter); ok {
		obj, ok, err := sp.CreateDeferred(ctx, "packs")
		if err != nil {
			return nil, fmt.Errorf("start pack: %w", err)
		}
		if ok {
			return format.NewPackStream(obj), nil
		}
	}
	return format.NewPackBuilder(), nil
}

// add appends a blob; it may block while earlier packs upload, or while
// an index file of them is written.
func (p *packer) add(ctx context.Context, id ID, typ byte, blob []byte, rawLen int) error {
	p.mu.Lock()
	if err := p.failed(); err != nil {
		p.mu.Unlock()
		return err
	}
	if p.cur == nil {
		b, err := p.begin(ctx)
		if err != nil {
			p.mu.Unlock()
			return err
		}
		p.cur = b
	}
	p.cur.Add(id, typ, blob, rawLen)
	if p.cur.Len() < format.PackTarget && len(p.cur.Blobs()) < maxPackBlobs {
		p.mu.Unlock()
		return nil
	}
	full := p.cur
	p.cur = nil
	err := p.upload(ctx, full)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.indexSome(ctx)
}

// indexSome writes an index file of the packs uploaded so far once they
// hold indexEvery blobs. The packs are made durable first: an index
// promises its packs, and other backups dedup against what it lists.
func (p *packer) indexSome(ctx context.Context) error {
	p.errMu.Lock()
	if p.indexEvery == 0 || p.blobs < p.indexEvery {
		p.errMu.Unlock()
		return nil
	}
	packs := p.packs
	p.packs, p.blobs = nil, 0
	p.errMu.Unlock()
	if err := p.writeIndex(ctx, packs); err != nil {
		p.fail(err)
		return err
	}
	return nil
}

// writeIndex makes packs durable and writes an index file of them.
func (p *packer) writeIndex(ctx context.Context, packs []format.IndexPack) error {
	if len(packs) == 0 {
		return nil
	}
	if dp, ok := p.be.(backends.DeferredPutter); ok {
		if err := dp.Sync(ctx); err != nil {
			return fmt.Errorf("make packs durable: %w", err)
		}
	}
	data, err := format.EncodeIndexFile(format.IndexFile{Packs: packs})
	if err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	if err := p.be.Put(ctx, "indexes/"+format.RandomID(), data); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

func (p *packer) upload(ctx context.Context, b *format.PackBuilder) error {
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		discard(b)
		return ctx.Err()
	}
	p.wg.Add(1)
	go func() {
		defer func() { <-p.sem; p.wg.Done() }()
		id, data, err := b.Finish()
		size := b.Size()
		if obj := b.Object(); obj != nil {
			if err == nil {
				err = obj.Commit(ctx, format.PackName(id))
			} else {
				obj.Abort()
			}
		} else {
			err = p.put(ctx, format.PackName(id), data)
		}
		b.Release()
		if err != nil {
			p.fail(fmt.Errorf("upload pack %s: %w", format.PackName(id), err))
			return
		}
		p.errMu.Lock()
		p.packs = append(p.packs, format.IndexPack{ID: id, Blobs: b.Blobs()})
		p.blobs += len(b.Blobs())
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
// durable; it returns the packs written and not yet in an index file
// (see indexEvery), for the session's last index file.
func (p *packer) flush(ctx context.Context) ([]format.IndexPack, error) {
	p.mu.Lock()
	if p.cur != nil {
		cur := p.cur
		p.cur = nil
		if err := p.upload(ctx, cur); err != nil {
			p.mu.Unlock()
			return nil, err
		}
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

// abort drops the pack being filled, after a failed backup or repack: a
// streamed pack's temporary object is removed now rather than by a later
// prune. Uploads already started finish (or fail) on their own.
func (p *packer) abort() {
	p.mu.Lock()
	cur := p.cur
	p.cur = nil
	p.mu.Unlock()
	if cur != nil {
		discard(cur)
	}
	p.wg.Wait()
}

// discard drops a pack that will not be uploaded.
func discard(b *format.PackBuilder) {
	if obj := b.Object(); obj != nil {
		obj.Abort()
	}
	b.Release()
}
