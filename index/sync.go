package index

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// sync brings the catalog up to date with the backend: loads index files
// and manifests it has not seen and drops versions whose manifest is gone
// (forgotten elsewhere). If an index file it had loaded is gone (prune
// rewrote the indexes), chunk locations are reloaded from scratch.
func (c *catalog) sync(ctx context.Context, be backends.Backend) error {
	if err := c.syncIndexes(ctx, be); err != nil {
		return err
	}
	return c.syncVersions(ctx, be)
}

func listNames(ctx context.Context, be backends.Backend, prefix string) (map[string]bool, error) {
	names := map[string]bool{}
	err := be.List(ctx, prefix, func(oi backends.ObjectInfo) error {
		names[oi.Name] = true
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s on %s: %w", prefix, be.Location(), err)
	}
	return names, nil
}

func (c *catalog) syncIndexes(ctx context.Context, be backends.Backend) error {
	onBackend, err := listNames(ctx, be, "indexes/")
	if err != nil {
		return err
	}
	loaded, err := c.loadedIndexes()
	if err != nil {
		return err
	}
	for name := range loaded {
		if !onBackend[name] {
			// An index was removed (prune): chunk locations may be stale.
			if err := c.forgetChunks(); err != nil {
				return err
			}
			loaded = map[string]bool{}
			break
		}
	}
	var todo []string
	for name := range onBackend {
		if !loaded[name] {
			todo = append(todo, name)
		}
	}
	return parallel(ctx, todo, func(ctx context.Context, name string) error {
		idx, err := format.ReadIndexFile(ctx, be, name)
		if err != nil {
			return err
		}
		return c.addIndex(name, idx)
	})
}

func (c *catalog) syncVersions(ctx context.Context, be backends.Backend) error {
	onBackend, err := listNames(ctx, be, "versions/")
	if err != nil {
		return err
	}
	loaded, err := c.loadedManifests()
	if err != nil {
		return err
	}
	for name := range loaded {
		if !onBackend[name] {
			if err := c.dropVersion(name); err != nil {
				return err
			}
		}
	}
	var todo []string
	for name := range onBackend {
		if !loaded[name] && !strings.Contains(name[strings.LastIndexByte(name, '/')+1:], ".tmp") {
			todo = append(todo, name)
		}
	}
	return parallel(ctx, todo, func(ctx context.Context, name string) error {
		m, err := format.ReadManifest(ctx, be, name)
		if err != nil {
			return err
		}
		return c.addVersion(name, m)
	})
}

// parallel runs fn for each item with a few workers (backend latency, not
// CPU, is what they hide).
func parallel(ctx context.Context, items []string, fn func(context.Context, string) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}
