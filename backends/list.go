package backends

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/rclone/rclone/fs"
	"golang.org/x/sync/errgroup"
)

// listDirConcurrency bounds the directories listed at once on stores
// without recursive listing (local disk, sftp, webdav), where each
// directory is one round trip.
const listDirConcurrency = 8

// List calls fn for every object whose name starts with prefix. Temporary
// objects of unfinished Puts are never shown. fn is never called
// concurrently.
func (r *Remote) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	var mu sync.Mutex
	var fnErr error
	err := r.walk(ctx, dir, func(entries fs.DirEntries) error {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range entries {
			o, ok := e.(fs.Object)
			if !ok || !strings.HasPrefix(o.Remote(), prefix) || isTempName(o.Remote()) {
				continue
			}
			if fnErr = fn(ObjectInfo{Name: o.Remote(), Size: o.Size(), ModTime: o.ModTime(ctx)}); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	switch {
	case fnErr != nil:
		return fnErr
	case errors.Is(err, fs.ErrorDirNotFound):
		return nil
	case err != nil:
		return fmt.Errorf("list %s in %s: %w", prefix, r.location, err)
	}
	return nil
}

// walk passes every entry below dir to cb, using the store's recursive
// listing when it has one. rclone's walk package is not used because it
// logs every listing error, a missing directory included, at ERROR level.
func (r *Remote) walk(ctx context.Context, dir string, cb fs.ListRCallback) error {
	if listR := r.f.Features().ListR; listR != nil {
		return listR(ctx, dir, cb)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(listDirConcurrency)
	var visit func(dir string, top bool) error
	visit = func(dir string, top bool) error {
		entries, err := r.f.List(ctx, dir)
		if errors.Is(err, fs.ErrorDirNotFound) && !top {
			return nil // removed while we listed
		}
		if err != nil {
			return err
		}
		if err := cb(entries); err != nil {
			return err
		}
		for _, e := range entries {
			if d, ok := e.(fs.Directory); ok {
				sub := d.Remote()
				if !g.TryGo(func() error { return visit(sub, false) }) {
					if err := visit(sub, false); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	g.Go(func() error { return visit(dir, true) })
	return g.Wait()
}
