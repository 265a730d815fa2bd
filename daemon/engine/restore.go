package engine

import (
	"context"
	"errors"
	"strings"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// RestoreRequest says what to restore where.
type RestoreRequest struct {
	// Version is CLUSTER/DB/TABLE/<time|latest>.
	Version string
	// Path restores only this file or directory of the version.
	Path string
	// Target is the directory written to.
	Target string
	// Overwrite replaces existing files in Target that differ from the
	// version; without it they are conflicts, listed before any write.
	Overwrite bool
	// DryRun reports what would be written (through Plan) and writes
	// nothing.
	DryRun bool
	// Verify reads each written file back before it gets its name.
	Verify bool
	// Plan is told each entry's fate: write, replace, skip or conflict
	// (only write, replace and conflict are reported one by one).
	Plan func(action, path string)
}

// RestoreProgress is a restore's state after each file.
type RestoreProgress struct {
	Files, Bytes, TotalBytes int64
}

// RestoreResult is what a restore did, and of which version.
type RestoreResult struct {
	Version Version `json:"version"`
	index.RestoreResult
}

// Restore writes a version (or a subtree or file of it) into a directory,
// with raw names, modes, times, symlinks and (as root) owners. Files get
// their final names only when complete; existing different files are
// conflicts (ErrBadInput) unless Overwrite; equal ones are skipped.
func (e *Engine) Restore(ctx context.Context, req RestoreRequest, progress func(RestoreProgress)) (RestoreResult, error) {
	st, err := e.store(ctx)
	if err != nil {
		return RestoreResult{}, err
	}
	v, err := resolveVersion(ctx, st, req.Version)
	if err != nil {
		return RestoreResult{}, err
	}
	res, err := st.Restore(ctx, v, restorePath(ctx, st, v, req.Path), req.Target, index.RestoreOptions{
		Overwrite: req.Overwrite,
		DryRun:    req.DryRun,
		Verify:    req.Verify,
		Plan:      req.Plan,
		Progress: func(files, bytes, all int64) {
			if progress != nil {
				progress(RestoreProgress{Files: files, Bytes: bytes, TotalBytes: all})
			}
		},
	})
	if errors.Is(err, index.ErrConflict) {
		err = badInput("%v", err)
	}
	return RestoreResult{Version: v, RestoreResult: res}, err
}

// restorePath maps a restore's Path to the raw path in v: as given when
// v has it, else with each component unescaped, so that the names diff
// and the mount show (50%25off.txt for the raw 50%off.txt) work as well,
// as --only's patterns do. A name v has raw is taken raw; a shortened
// name (see sources.IsShortened) has no unescaped form and is left as
// given, to fail as not found.
func restorePath(ctx context.Context, st *index.Store, v Version, p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return p
	}
	if _, err := st.Lookup(ctx, v, p); err == nil {
		return p
	}
	parts := strings.Split(p, "/")
	for i, c := range parts {
		raw, ok := sources.UnescapeName(c)
		if !ok {
			return p
		}
		parts[i] = raw
	}
	if raw := strings.Join(parts, "/"); raw != p {
		if _, err := st.Lookup(ctx, v, raw); err == nil {
			return raw
		}
	}
	return p
}

// LoadRequest says what to load into which database.
type LoadRequest struct {
	// Kind is the source kind whose Loader does the work ("mongodb").
	Kind string
	// Target addresses the database (a connection string).
	Target string
	// Spec is CLUSTER/DB/TABLE/<time|latest> or CLUSTER/DB/TABLE/T1..T2
	// (the @diff of that range).
	Spec string
	// Options name the target database and table and whether to drop it.
	Options sources.LoadOptions
}

// LoadResult is what a load did, and of which version.
type LoadResult struct {
	Version  Version
	Database string
	sources.LoadResult
}

// Load loads a version, or the @diff of a range, into a live database
// through its kind's Loader.
func (e *Engine) Load(ctx context.Context, req LoadRequest) (LoadResult, error) {
	kind, err := sources.LookupKind(req.Kind)
	if err != nil {
		return LoadResult{}, badInput("%v", err)
	}
	if kind.Loader == nil {
		return LoadResult{}, badInput("source kind %s cannot load into a database", req.Kind)
	}
	st, err := e.store(ctx)
	if err != nil {
		return LoadResult{}, err
	}
	v, err := resolveSpec(ctx, st, req.Spec, func(v Version) error {
		// Checked before any diff or load: another kind's loader reads
		// the version as its own and fails on a missing file, far from
		// the cause.
		if v.Kind != kind.Name {
			return badInput("%s is a %s version; --to-%s loads %s versions", v.Object, v.Kind, kind.Name, kind.Name)
		}
		return nil
	})
	if err != nil {
		return LoadResult{}, err
	}
	if req.Options.Database == "" {
		req.Options.Database = v.Object.Database
	}
	if req.Options.Extra.Values == nil {
		req.Options.Extra = sources.NewConfig()
	}
	if p := req.Options.Extra.Get("path"); p != "" { // --to-hdfs --path, as a restore's Path
		req.Options.Extra.Set("path", restorePath(ctx, st, v, p))
	}
	files, err := st.VersionReader(ctx, v)
	if err != nil {
		return LoadResult{}, err
	}
	res, err := kind.Loader.Load(ctx, req.Target, files, req.Options)
	return LoadResult{Version: v, Database: req.Options.Database, LoadResult: res}, err
}

// resolveSpec finds CLUSTER/DB/TABLE/<time|latest>, or computes the
// @diff of CLUSTER/DB/TABLE/T1..T2 as a virtual version (T1 before the
// first version: the whole T2 version, as `strata diff` counts it).
// check is called with the version (T2's for a range) before any diff
// is computed.
func resolveSpec(ctx context.Context, st *index.Store, spec string, check func(Version) error) (Version, error) {
	i := strings.LastIndexByte(spec, '/')
	if i < 0 {
		return Version{}, badInput("%q: want CLUSTER/DB/TABLE/<time|latest|T1..T2>", spec)
	}
	t1, t2, isDiff := strings.Cut(spec[i+1:], "..")
	if !isDiff {
		t2 = spec[i+1:]
	}
	v, err := resolveVersion(ctx, st, spec[:i]+"/"+t2)
	if err != nil {
		return Version{}, err
	}
	if err := check(v); err != nil || !isDiff {
		return v, err
	}
	_, _, d, err := diffRange(ctx, st, spec[:i], t1, t2)
	if err != nil {
		return Version{}, err
	}
	return d.Version, nil
}
