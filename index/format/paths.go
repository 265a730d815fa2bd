package format

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// SplitPath splits a version path into its directory and name.
func SplitPath(p string) (dir, name string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

// RootEntry is the entry of a version's root directory, which no
// manifest records.
func RootEntry(v Version) sources.Entry {
	if v.Root != nil && v.Root.Type == uint8(sources.TypeDir) {
		e := v.Root.File().Entry
		e.Path = ""
		return e
	}
	return sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: v.Time}
}

// ListNames returns the names of the backend's objects under prefix.
func ListNames(ctx context.Context, be backends.Backend, prefix string) (map[string]bool, error) {
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

// Parallel runs fn for each item (backend objects: index files,
// manifests, packs) with a few workers: backend latency, not CPU, is what
// they hide.
func Parallel(ctx context.Context, items []string, fn func(context.Context, string) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, it := range items {
		g.Go(func() error { return fn(ctx, it) })
	}
	return g.Wait()
}
