package fs

import (
	"context"

	"github.com/stratabackup/strata/index"
)

// maxCachedDiffs bounds the diff cache; it is emptied when full.
const maxCachedDiffs = 64

// diff returns the catalog's diff of (from, to], kept under key (which
// names both versions) so that repeated lookups of one @diff entry do not
// recompute it.
func (t *tree) diff(ctx context.Context, key string, from *index.Version, to index.Version) (index.DiffResult, error) {
	t.mu.Lock()
	res, ok := t.diffs[key]
	t.mu.Unlock()
	if ok {
		return res, nil
	}
	res, err := t.cat.Diff(ctx, from, to)
	if err != nil {
		return res, err
	}
	t.mu.Lock()
	if len(t.diffs) >= maxCachedDiffs {
		clear(t.diffs)
	}
	t.diffs[key] = res
	t.mu.Unlock()
	return res, nil
}
