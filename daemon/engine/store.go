package engine

import (
	"context"
	"strings"
	"time"

	"github.com/stratabackup/strata/index"
)

// Versions lists the versions of every object under prefix (CLUSTER,
// CLUSTER/DB or CLUSTER/DB/TABLE; "" for all), oldest first per object.
func (e *Engine) Versions(ctx context.Context, prefix string) ([]Version, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := st.AllVersions(ctx)
	if err != nil {
		return nil, err
	}
	out := []Version{}
	for _, v := range vs {
		if prefix == "" || v.Object.String() == prefix || strings.HasPrefix(v.Object.String(), strings.TrimSuffix(prefix, "/")+"/") {
			out = append(out, v)
		}
	}
	return out, nil
}

// Forget applies a retention policy to the named objects (CLUSTER/DB/TABLE;
// none means every object) and removes the manifests of the versions no
// rule keeps; data stays until Prune. With dryRun nothing is removed.
func (e *Engine) Forget(ctx context.Context, p Policy, objects []string, dryRun bool) ([]Decision, error) {
	if p.Empty() {
		return nil, badInput("forget: give at least one --keep-* rule (refusing to forget every version)")
	}
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	var objs []index.ObjectRef
	for _, a := range objects {
		o, err := st.ResolveObject(ctx, a)
		if err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return st.Forget(ctx, p, objs, dryRun)
}

// Prune deletes data that no version references. It waits while backups
// run; waiting is told what it waits for.
func (e *Engine) Prune(ctx context.Context, dryRun bool, waiting func(op string)) (PruneResult, error) {
	st, err := e.store(ctx)
	if err != nil {
		return PruneResult{}, err
	}
	return st.Prune(ctx, dryRun, waiting)
}

// CheckProgress is a check's state: packs done of all, and the time
// since it started.
type CheckProgress struct {
	Packs, TotalPacks int64
	Elapsed           time.Duration
}

// Check reads every pack and verifies every chunk; damage is in the
// result, not the error.
func (e *Engine) Check(ctx context.Context, progress func(CheckProgress)) (CheckResult, error) {
	st, err := e.store(ctx)
	if err != nil {
		return CheckResult{}, err
	}
	start := time.Now()
	return st.Check(ctx, func(done, total int64) {
		if progress != nil {
			progress(CheckProgress{Packs: done, TotalPacks: total, Elapsed: time.Since(start)})
		}
	})
}
