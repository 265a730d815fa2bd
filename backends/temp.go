package backends

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/rclone/rclone/fs"
)

// TempRemover is implemented by backends whose Put leaves temporary
// objects behind when the process is killed mid-upload (file-like stores).
// List never shows them; the store's prune removes them while it holds the
// exclusive lock, when no Put can be running.
type TempRemover interface {
	// RemoveTemporary deletes temporary objects under prefix last written
	// before olderThan ago and reports how many it deleted.
	RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration) (int, error)
}

var _ TempRemover = (*Remote)(nil)

// RemoveTemporary implements TempRemover.
func (r *Remote) RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration) (int, error) {
	if !r.viaTemp {
		return 0, nil
	}
	dir := ""
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir = prefix[:i]
	}
	var mu sync.Mutex
	var stale []fs.Object
	cutoff := time.Now().Add(-olderThan)
	err := r.walk(ctx, dir, func(entries fs.DirEntries) error {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range entries {
			if o, ok := e.(fs.Object); ok && isTempName(o.Remote()) && strings.HasPrefix(o.Remote(), dir) && o.ModTime(ctx).Before(cutoff) {
				stale = append(stale, o)
			}
		}
		return nil
	})
	if err != nil && !isNotFound(err) {
		return 0, fmt.Errorf("list temporary objects in %s: %w", r.location, err)
	}
	for i, o := range stale {
		if err := o.Remove(ctx); err != nil && !isNotFound(err) {
			return i, fmt.Errorf("remove temporary object %s in %s: %w", o.Remote(), r.location, err)
		}
	}
	return len(stale), nil
}

// RemoveTemporary forwards to the wrapped backend, if it has temporaries.
func (r *retrying) RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration) (int, error) {
	if tr, ok := r.Backend.(TempRemover); ok {
		return tr.RemoveTemporary(ctx, prefix, olderThan)
	}
	return 0, nil
}
