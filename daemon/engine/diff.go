package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// DiffResult lists what changed in an object between two times.
type DiffResult struct {
	// From is nil when T1 lies before the object's first version: then
	// everything in To counts as added.
	From *Version `json:"from"`
	To   Version  `json:"to"`
	// Changed are the paths added or changed in (T1, T2]; for row sources
	// the native files of the changed rows.
	Changed []string `json:"changed"`
	// Deleted are the paths removed (file sources).
	Deleted []string `json:"deleted"`
}

// Diff compares the newest versions at or before t1 and t2 of object
// (CLUSTER/DB/TABLE). t1 before the first version means "from nothing".
func (e *Engine) Diff(ctx context.Context, object, rng string) (DiffResult, error) {
	t1, t2, ok := strings.Cut(rng, "..")
	if !ok {
		return DiffResult{}, badInput("diff: %q is not a range T1..T2", rng)
	}
	st, err := e.store(ctx)
	if err != nil {
		return DiffResult{}, err
	}
	from, to, d, err := diffRange(ctx, st, object, t1, t2)
	if err != nil {
		return DiffResult{}, err
	}
	res := DiffResult{From: from, To: to, Changed: []string{}}
	err = st.Walk(ctx, d.Version, "", func(f index.File) error {
		if f.Type != sources.TypeDir {
			res.Changed = append(res.Changed, f.Path)
		}
		return nil
	})
	res.Deleted = d.Deleted
	if res.Deleted == nil {
		res.Deleted = []string{}
	}
	return res, err
}

// diffRange resolves T1..T2 of object (CLUSTER/DB/TABLE) to the newest
// versions at or before each and computes the @diff between them. T1
// before the object's first version means "from nothing": from is nil and
// everything in to counts as added.
func diffRange(ctx context.Context, st *index.Store, object, t1, t2 string) (from *Version, to Version, d index.DiffResult, err error) {
	b1, err1 := parseBound(t1)
	b2, err2 := parseBound(t2)
	if err1 == nil && err2 == nil && b1.After(b2) {
		// An inverted range would read as its reverse with added and
		// removed swapped; the mount's @diff has no such directory.
		return nil, to, d, badInput("diff %s %s..%s: T1 is later than T2; give the earlier time first (%s..%s)", object, t1, t2, t2, t1)
	}
	if to, err = resolveVersion(ctx, st, object+"/"+t2); err != nil {
		return nil, to, d, err
	}
	if f, ferr := resolveVersion(ctx, st, object+"/"+t1); ferr == nil {
		from = &f
	} else if errors.Is(ferr, ErrBadInput) {
		return nil, to, d, ferr
	}
	d, err = st.Diff(ctx, from, to)
	if err != nil {
		return nil, to, d, fmt.Errorf("diff %s %s..%s: %w", object, t1, t2, err)
	}
	return from, to, d, nil
}

// parseBound reads one end of T1..T2 as the mount's @diff does: "latest"
// lies after every time.
func parseBound(s string) (time.Time, error) {
	if s == "latest" {
		return time.Unix(1<<62, 0), nil
	}
	return index.ParseTime(s)
}

// resolveVersion is index's ResolveVersion with a malformed time made bad
// input (exit 2 in the CLI, 400 in the API), told apart from a well-formed
// time that no version is at or before (not found).
func resolveVersion(ctx context.Context, st *index.Store, spec string) (Version, error) {
	if i := strings.LastIndexByte(spec, '/'); i >= 0 && spec[i+1:] != "latest" {
		if _, err := index.ParseTime(spec[i+1:]); err != nil {
			return Version{}, badInput("version %q: %v", spec, err)
		}
	}
	return st.ResolveVersion(ctx, spec)
}
