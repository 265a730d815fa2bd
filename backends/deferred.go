package backends

import (
	"context"
	"fmt"
	"path"
	"path/filepath"

	"golang.org/x/sync/errgroup"
)

// DeferredPutter is implemented by backends that can publish an object
// atomically now and make it durable later, in one batch. The store writes
// packs this way and calls Sync before the index that references them:
// an fsync per 16 MiB pack stalled the pipeline, while one Sync at the end
// lets the kernel write back while chunks are still being compressed. A
// crash before Sync may leave such objects damaged, but nothing refers to
// them yet (prune removes them).
type DeferredPutter interface {
	// PutDeferred is Put without the durability promise: the object is
	// complete for readers, but may not survive a crash until Sync.
	PutDeferred(ctx context.Context, name string, data []byte) error
	// Sync makes every PutDeferred that returned before it durable.
	Sync(ctx context.Context) error
}

var _ DeferredPutter = (*Remote)(nil)

type pendingPut struct{ name, created string }

// addPending records an object published without fsync, for Sync, and
// starts its writeback; created is the topmost directory made for it (""
// if none).
func (r *Remote) addPending(name, created string) {
	startWriteback(filepath.Join(r.localRoot, filepath.FromSlash(name)))
	r.pendMu.Lock()
	r.pending = append(r.pending, pendingPut{name: name, created: created})
	r.pendMu.Unlock()
}

// PutDeferred implements DeferredPutter: on local disk the temporary file
// is renamed into place without fsync; elsewhere it is Put.
func (r *Remote) PutDeferred(ctx context.Context, name string, data []byte) error {
	if r.localRoot == "" || !r.viaTemp {
		return r.Put(ctx, name, data)
	}
	if err := checkName(name); err != nil {
		return fmt.Errorf("put %q in %s: %w", name, r.location, err)
	}
	if err := r.putViaTemp(ctx, name, data, true); err != nil {
		return fmt.Errorf("put %s in %s: %w", name, r.location, err)
	}
	return nil
}

// Sync implements DeferredPutter: it fsyncs the pending files, then each
// directory they (or directories created for them) live in, once.
func (r *Remote) Sync(ctx context.Context) error {
	r.pendMu.Lock()
	pend := r.pending
	r.pending = nil
	r.pendMu.Unlock()
	if len(pend) == 0 {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, p := range pend {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return syncFile(r.localRoot, p.name)
		})
	}
	if err := g.Wait(); err != nil {
		r.requeue(pend)
		return fmt.Errorf("sync %s: %w", r.location, err)
	}
	dirs := map[string]string{} // directory -> topmost created directory
	for _, p := range pend {
		d := path.Dir(p.name)
		if c, ok := dirs[d]; !ok || (p.created != "" && (c == "" || len(p.created) < len(c))) {
			dirs[d] = p.created
		}
	}
	for d, created := range dirs {
		if err := syncDirs(r.localRoot, path.Join(d, "x"), created); err != nil {
			r.requeue(pend)
			return fmt.Errorf("sync %s: %w", r.location, err)
		}
	}
	return nil
}

func (r *Remote) requeue(p []pendingPut) {
	r.pendMu.Lock()
	r.pending = append(r.pending, p...)
	r.pendMu.Unlock()
}
