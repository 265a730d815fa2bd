package catalog

import (
	"context"
	"strings"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// Sync brings the catalog up to date with the backend: loads index files
// and manifests it has not seen and drops versions whose manifest is gone
// (forgotten elsewhere). If an index file it had loaded is gone (prune
// rewrote the indexes), chunk locations are reloaded from scratch.
func (c *Catalog) Sync(ctx context.Context, be backends.Backend) error {
	if err := c.syncIndexes(ctx, be); err != nil {
		return err
	}
	return c.syncVersions(ctx, be)
}

func (c *Catalog) syncIndexes(ctx context.Context, be backends.Backend) error {
	onBackend, err := format.ListNames(ctx, be, "indexes/")
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
	return format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		idx, err := format.ReadIndexFile(ctx, be, name)
		if err != nil {
			return err
		}
		return c.addIndex(name, idx)
	})
}

func (c *Catalog) syncVersions(ctx context.Context, be backends.Backend) error {
	onBackend, err := format.ListNames(ctx, be, "versions/")
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
	return format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		m, err := format.ReadManifest(ctx, be, name)
		if err != nil {
			return err
		}
		return c.AddVersion(name, m)
	})
}
