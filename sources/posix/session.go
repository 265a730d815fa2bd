package posix

import (
	"context"
	"fmt"
	"time"

	"github.com/stratabackup/strata/sources"
)

var _ sources.SessionSource = (*Source)(nil)

// Begin starts a backup run over objs. A directory tree has no snapshot,
// so the run's point is its start, truncated to the second: every
// version of the run is named by that one time, so that the directories
// of one run read as one point in the mount, and every file read is at
// least as new as it. objs must be configured tables of this source.
func (s *Source) Begin(ctx context.Context, objs []sources.Object, _ sources.Reporter) (sources.Session, error) {
	set := make(map[string]bool, len(objs))
	for _, obj := range objs {
		if _, err := s.root(obj); err != nil {
			return nil, fmt.Errorf("posix: begin a backup run: %w", err)
		}
		set[obj.String()] = true
	}
	return &session{src: s, at: time.Now().UTC().Truncate(time.Second), objs: set}, nil
}

// session is one backup run of a posix Source.
type session struct {
	src  *Source
	at   time.Time
	objs map[string]bool
}

// At is the run's start.
func (s *session) At() time.Time { return s.at }

// Backup backs up one object of the run; its version is named by the
// run's start rather than its own walk's.
func (s *session) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	if !s.objs[obj.String()] {
		return sources.Result{}, fmt.Errorf("posix: %s was not named when the backup run began", obj)
	}
	res, err := s.src.Backup(ctx, obj, prev, w)
	if err != nil {
		return res, err
	}
	res.At = s.at
	return res, nil
}

// Close does nothing: a run holds nothing open.
func (s *session) Close() error { return nil }
