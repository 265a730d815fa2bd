package engine

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// BackupRequest names a source and what of it to back up.
type BackupRequest struct {
	// Kind is the registered source kind ("posix", "mongodb").
	Kind string
	// Config is the kind's settings, including the common "cluster" and
	// "only" (DB[/TABLE] shell patterns; none means everything the source
	// discovers).
	Config sources.Config
}

// ObjectResult is the outcome of one object's backup.
type ObjectResult struct {
	Object  string   `json:"object"`
	Version *Version `json:"version,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// BackupResult is the outcome of a backup run.
type BackupResult struct {
	Objects []ObjectResult
	Failed  int
}

// Event is what a running workflow reports: the store's progress for the
// object being backed up (Progress), a wait for another process's lock
// (Waiting), or the source's own progress and warnings (Source).
type Event struct {
	Object   string
	Progress *Progress
	Waiting  string
	Source   *sources.Event
	// Done is one object's result, when its backup ends (it is also in
	// BackupResult).
	Done *ObjectResult
}

// Backup discovers the source's objects, keeps those the "only" patterns
// match, and backs them up in one session: one consistent point where the
// source can give one, one chunk-set load and one store lock for the run.
// A failed object does not stop the others; each is reported in the
// result, and earlier versions stay intact. The error is for failures
// before any object ran (bad config, unreachable source, empty match).
func (e *Engine) Backup(ctx context.Context, req BackupRequest, events func(Event)) (BackupResult, error) {
	if events == nil {
		events = func(Event) {}
	}
	src, objs, err := e.discover(ctx, req)
	if err != nil {
		return BackupResult{}, err
	}
	defer src.Close()
	st, err := e.store(ctx)
	if err != nil {
		return BackupResult{}, err
	}
	return backupObjects(ctx, st, src, objs, events)
}

// discover builds the source and lists the objects to back up.
func (e *Engine) discover(ctx context.Context, req BackupRequest) (sources.Source, []sources.Object, error) {
	kind, err := sources.LookupKind(req.Kind)
	if err != nil {
		return nil, nil, badInput("%v", err)
	}
	if err := kind.Check(req.Config); err != nil {
		return nil, nil, badInput("%v", err)
	}
	only := req.Config.All(sources.OptOnly)
	if err := checkPatterns(only); err != nil {
		return nil, nil, err
	}
	src, err := kind.New(req.Config)
	if err != nil {
		return nil, nil, badInput("%v", err)
	}
	objs, err := src.Discover(ctx)
	if err == nil {
		objs = filterObjects(objs, only)
		if len(objs) == 0 {
			err = fmt.Errorf("nothing to back up: the source has no objects matching --only")
		}
	}
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, objs, nil
}

// backupObjects runs one session over objs.
func backupObjects(ctx context.Context, st *index.Store, src sources.Source, objs []sources.Object, events func(Event)) (BackupResult, error) {
	run, err := st.BeginBackup(ctx, runName(objs), func(op string) { events(Event{Waiting: op}) })
	if err != nil {
		return BackupResult{}, err
	}
	defer run.Close()
	rep := sources.ReporterFunc(func(ev sources.Event) { events(Event{Object: ev.Object, Source: &ev}) })
	sess, err := sources.Begin(ctx, src, objs, rep)
	if err != nil {
		return BackupResult{}, fmt.Errorf("begin %s backup: %w", src.Kind(), err)
	}
	defer sess.Close()
	var res BackupResult
	for _, obj := range objs {
		r := backupOne(ctx, run, sess, src.Kind(), obj, events)
		if r.Error != "" {
			res.Failed++
		}
		events(Event{Object: r.Object, Done: &r})
		res.Objects = append(res.Objects, r)
	}
	return res, nil
}

// backupOne backs up one object of the run; once the run is cancelled it
// starts nothing and says so.
func backupOne(ctx context.Context, run *index.BackupRun, sess sources.Session, kind string, obj sources.Object, events func(Event)) ObjectResult {
	name := obj.String()
	if ctx.Err() != nil {
		return ObjectResult{Object: name, Error: "not started: " + ctx.Err().Error()}
	}
	v, err := run.Backup(ctx, kind, sess, obj, index.BackupOptions{
		Progress: func(p index.Progress) { events(Event{Object: name, Progress: &p}) },
		Waiting:  func(op string) { events(Event{Object: name, Waiting: op}) },
		Events:   func(ev sources.Event) { events(Event{Object: name, Source: &ev}) },
	})
	if err != nil {
		return ObjectResult{Object: name, Error: err.Error()}
	}
	return ObjectResult{Object: name, Version: &v}
}

// runName is the store lock's name for a run: what waiting processes see.
func runName(objs []sources.Object) string {
	s := "backup " + objs[0].String()
	if len(objs) > 1 {
		s += fmt.Sprintf(" and %d more", len(objs)-1)
	}
	return s
}

// checkPatterns rejects malformed DB[/TABLE] patterns before any work.
func checkPatterns(patterns []string) error {
	for _, p := range patterns {
		db, table, _ := strings.Cut(p, "/")
		for _, part := range []string{db, table} {
			if _, err := path.Match(part, ""); err != nil {
				return badInput("--only %q: %v", p, err)
			}
		}
	}
	return nil
}

// filterObjects keeps objects matching any DB[/TABLE] shell pattern; no
// patterns keep everything. Patterns must have passed checkPatterns.
func filterObjects(objs []sources.Object, patterns []string) []sources.Object {
	if len(patterns) == 0 {
		return objs
	}
	var out []sources.Object
	for _, o := range objs {
		for _, p := range patterns {
			db, table, hasTable := strings.Cut(p, "/")
			okDB, _ := path.Match(db, o.Database)
			okTable := true
			if hasTable {
				okTable, _ = path.Match(table, o.Table)
			}
			if okDB && okTable {
				out = append(out, o)
				break
			}
		}
	}
	return out
}
