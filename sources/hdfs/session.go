package hdfs

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/stratabackup/strata/sources"
)

// session is one backup run: the snapshots it made and where each object
// is read from.
type session struct {
	src   *Source
	c     *conn
	pool  []*conn
	at    time.Time
	plans map[string]plan // by Object.String()
	snaps []snapRef
}

// plan says where one object of a run is read.
type plan struct {
	dir      string // the configured directory
	readDir  string // the snapshot's copy of dir, or dir itself when live
	snapshot string // the snapshot's name; "" when read live
	warning  string // why a snapshottable tree is read live
}

// snapRef is a snapshot the run made and must delete, or why it could
// not make one.
type snapRef struct{ root, name, warning string }

// Begin takes the run's consistent point: one snapshot per snapshottable
// root above the objects (after deleting the strata snapshots killed runs
// left there). Objects under no snapshottable directory are read live.
// The run's time is taken just before the snapshots, so every version is
// named by a time no later than its content.
func (s *Source) Begin(ctx context.Context, objs []sources.Object, r sources.Reporter) (sources.Session, error) {
	if r == nil {
		r = sources.Discard
	}
	pool, err := s.pool()
	if err != nil {
		return nil, err
	}
	c := pool[0]
	roots, err := snapshotRoots(ctx, c.nn)
	if err != nil {
		return nil, fmt.Errorf("hdfs %s: %w", s.cfg.Cluster, err)
	}
	sess := &session{src: s, c: c, pool: pool, at: time.Now().UTC().Truncate(time.Second), plans: map[string]plan{}}
	made := map[string]snapRef{}
	for _, obj := range objs {
		dir, err := s.dirOf(obj)
		if err != nil {
			sess.Close()
			return nil, fmt.Errorf("hdfs: begin a backup run: %w", err)
		}
		p := plan{dir: dir, readDir: dir}
		if root := rootFor(roots, dir); root != "" {
			ref, ok := made[root]
			if !ok {
				ref, err = sess.snapshot(ctx, root, r)
				if err != nil && ctx.Err() == nil {
					ref.warning = fmt.Sprintf("read live, not from a snapshot of %s: %v", root, err)
				} else if err != nil {
					sess.Close()
					return nil, err
				}
				made[root] = ref
			}
			if ref.warning != "" {
				p.warning = ref.warning
				r.Report(sources.Event{Object: obj.String(), Step: p.warning, Warning: true})
			}
			if ref.name != "" {
				p.snapshot = ref.name
				p.readDir = path.Join(root, ".snapshot", ref.name, strings.TrimPrefix(dir, root))
			}
		}
		sess.plans[obj.String()] = p
	}
	return sess, nil
}

// snapshot deletes root's leftovers and creates the run's snapshot of it.
func (s *session) snapshot(ctx context.Context, root string, r sources.Reporter) (snapRef, error) {
	if err := cleanLeftovers(ctx, s.c, root, r); err != nil {
		return snapRef{}, err
	}
	name := snapName(time.Now())
	if _, err := s.c.c.CreateSnapshot(root, name); err != nil {
		return snapRef{}, fmt.Errorf("create snapshot %s of %s: %w", name, root, err)
	}
	ref := snapRef{root: root, name: name}
	s.snaps = append(s.snaps, ref)
	return ref, nil
}

// At is the run's consistent point.
func (s *session) At() time.Time { return s.at }

// Backup backs up one object of the run.
func (s *session) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	p, ok := s.plans[obj.String()]
	if !ok {
		return sources.Result{}, fmt.Errorf("hdfs: %s was not named when the backup run began", obj)
	}
	if prev == nil {
		prev = sources.NoPrevious{}
	}
	b := newBackup(s.pool, p, prev, w, s.src.cfg)
	if err := b.run(ctx); err != nil {
		return sources.Result{}, fmt.Errorf("hdfs %s (%s): %w", obj, p.dir, err)
	}
	res := sources.Result{At: s.at, Meta: b.meta(), LogicalBytes: b.stats.logical.Load(), Warnings: b.warn.list()}
	if p.warning != "" {
		res.Warnings = append([]string{p.warning}, res.Warnings...)
	}
	if p.snapshot == "" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("fuzzy copy: %s is in no snapshottable directory, so it was read live; %d files changed while being copied (metadata changed_during_copy)", p.dir, b.changed.count()))
	}
	return res, nil
}

// Close deletes the run's snapshots, even when the run's context is
// cancelled.
func (s *session) Close() error {
	var errs []error
	for _, ref := range s.snaps {
		if err := s.c.c.DeleteSnapshot(ref.root, ref.name); err != nil {
			errs = append(errs, fmt.Errorf("hdfs: delete snapshot %s of %s: %w", ref.name, ref.root, err))
		}
	}
	s.snaps = nil
	return errors.Join(errs...)
}
