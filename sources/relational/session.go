package relational

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Begin opens one backup run over objs: a snapshot per database (one for
// the whole server where the dialect's snapshot is global), all taken
// before any table is read. The run's versions are named by the first
// snapshot's time.
func (s *Source) Begin(ctx context.Context, objs []sources.Object, r sources.Reporter) (sources.Session, error) {
	srv, err := s.server(ctx)
	if err != nil {
		return nil, err
	}
	sess := &session{src: s, snaps: map[string]snapshot{}, objs: map[string]bool{}}
	for _, obj := range objs {
		db, _, err := rawNames(obj)
		if err != nil {
			return nil, err
		}
		sess.objs[obj.String()] = true
		key := snapKey(srv, db)
		if _, ok := sess.snaps[key]; ok {
			continue
		}
		snap, err := srv.snapshot(ctx, db, s.cfg.Workers)
		if err != nil {
			sess.Close()
			return nil, fmt.Errorf("%s %s: take a snapshot of database %s: %w", s.Kind(), srv.redacted(), db, err)
		}
		if _, warn := snap.consistency(); warn != "" {
			r.Report(sources.Event{Object: obj.String(), Step: warn, Warning: true})
		}
		sess.snaps[key] = snap
		if sess.at.IsZero() {
			sess.at = snap.at().UTC().Truncate(time.Second)
		}
	}
	return sess, nil
}

func snapKey(srv server, db string) string {
	if srv.global() {
		return ""
	}
	return db
}

// session is one backup run: its snapshots stay open until Close.
type session struct {
	src   *Source
	at    time.Time
	snaps map[string]snapshot
	objs  map[string]bool
}

// At is the run's consistent point.
func (s *session) At() time.Time { return s.at }

// Backup backs up one table of the run at the run's snapshot.
func (s *session) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	if !s.objs[obj.String()] {
		return sources.Result{}, fmt.Errorf("%s: %s was not named when the backup run began", s.src.Kind(), obj)
	}
	db, t, err := rawNames(obj)
	if err != nil {
		return sources.Result{}, err
	}
	snap := s.snaps[snapKey(s.src.srv, db)]
	b := &tableBackup{src: s.src, snap: snap, obj: obj, db: db, name: t, at: s.at, prev: prev, w: w}
	res, err := b.run(ctx)
	if err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
	}
	return res, nil
}

// Close ends every snapshot's transactions.
func (s *session) Close() error {
	var errs []error
	for _, snap := range s.snaps {
		errs = append(errs, snap.close())
	}
	return errors.Join(errs...)
}
