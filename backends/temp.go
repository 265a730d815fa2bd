package backends

import (
	"context"
	"fmt"
	"sort"
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
	// before olderThan ago and returns their names, sorted. With dryRun it
	// deletes nothing and returns the names it would delete: the same
	// listing and the same rule, so that a dry run reports exactly what
	// the real run removes.
	RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration, dryRun bool) ([]string, error)
}

var _ TempRemover = (*Remote)(nil)

// RemoveTemporary implements TempRemover.
func (r *Remote) RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration, dryRun bool) ([]string, error) {
	if !r.viaTemp {
		return nil, nil
	}
	stale, err := r.staleTemporaries(ctx, prefix, olderThan)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(stale))
	for _, o := range stale {
		if !dryRun {
			if err := o.Remove(ctx); err != nil && !isNotFound(err) {
				return names, fmt.Errorf("remove temporary object %s in %s: %w", o.Remote(), r.location, err)
			}
		}
		names = append(names, o.Remote())
	}
	return names, nil
}

// staleTemporaries lists the temporary objects under prefix older than
// olderThan, sorted by name.
func (r *Remote) staleTemporaries(ctx context.Context, prefix string, olderThan time.Duration) ([]fs.Object, error) {
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
		return nil, fmt.Errorf("list temporary objects in %s: %w", r.location, err)
	}
	sort.Slice(stale, func(i, j int) bool { return stale[i].Remote() < stale[j].Remote() })
	return stale, nil
}

// RemoveTemporary forwards to the wrapped backend, if it has temporaries.
func (r *retrying) RemoveTemporary(ctx context.Context, prefix string, olderThan time.Duration, dryRun bool) ([]string, error) {
	if tr, ok := r.Backend.(TempRemover); ok {
		return tr.RemoveTemporary(ctx, prefix, olderThan, dryRun)
	}
	return nil, nil
}
