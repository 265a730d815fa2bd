package fs

import (
	"context"

	"github.com/stratabackup/strata/index"
)

// diff returns the catalog's diff of (from, to]. The mount keeps no diffs
// of its own: the store caches them within one byte bound (a second,
// count-bounded cache here would hold memory that bound does not see) and
// computes an evicted one again, so that a mount running for weeks holds
// no more than that bound, whatever ranges it was asked for. key names the
// range for the mount's inode numbers; it is not needed here.
func (t *tree) diff(ctx context.Context, _ string, from *index.Version, to index.Version) (index.DiffResult, error) {
	return t.cat.Diff(ctx, from, to)
}
