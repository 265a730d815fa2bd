package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/cockroachdb/pebble"

	"github.com/stratabackup/strata/index/lock"
)

// Snapshots holds a Store's current read snapshot: a private copy of the
// shared catalog. Each read borrows it for one catalog call; Replace makes
// a new one current without waiting for readers, and the old one is
// closed (and its directory removed) when its last reader gives it back.
type Snapshots struct {
	mu     sync.Mutex
	cur    *Snapshot
	closed bool
	log    *slog.Logger
}

// NewSnapshots returns a Store's snapshot holder, empty until the first
// Replace.
func NewSnapshots(log *slog.Logger) *Snapshots { return &Snapshots{log: log} }

// Snapshot is one private copy of the shared catalog (see Checkpoint).
type Snapshot struct {
	cat  *Catalog
	dir  string // private directory holding it
	refs int    // readers, plus one while current; guarded by snapshots.mu
}

// ErrClosed is what reads of a closed Store get.
var ErrClosed = errors.New("store is closed")

func (ss *Snapshots) acquire() (*Snapshot, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.cur == nil {
		if ss.closed {
			return nil, fmt.Errorf("read catalog: %w", ErrClosed)
		}
		return nil, errors.New("read catalog: no snapshot taken yet (internal error)")
	}
	ss.cur.refs++
	return ss.cur, nil
}

func (ss *Snapshots) release(sn *Snapshot) {
	ss.mu.Lock()
	sn.refs--
	last := sn.refs == 0
	ss.mu.Unlock()
	if !last {
		return
	}
	if err := sn.cat.Close(); err != nil {
		ss.log.Warn("close catalog snapshot", "dir", sn.dir, "err", err)
	}
	if err := os.RemoveAll(sn.dir); err != nil {
		ss.log.Warn("remove catalog snapshot", "dir", sn.dir, "err", err)
	}
}

// Replace makes sn the snapshot that reads get; after close it only
// closes sn.
func (ss *Snapshots) Replace(sn *Snapshot) error {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		sn.refs = 1
		ss.release(sn)
		return fmt.Errorf("replace catalog snapshot: %w", ErrClosed)
	}
	old := ss.cur
	sn.refs = 1
	ss.cur = sn
	ss.mu.Unlock()
	if old != nil {
		ss.release(old)
	}
	return nil
}

// Close drops the current snapshot (closed once its readers finish) and
// refuses reads from now on.
func (ss *Snapshots) Close() {
	ss.mu.Lock()
	old := ss.cur
	ss.cur, ss.closed = nil, true
	ss.mu.Unlock()
	if old != nil {
		ss.release(old)
	}
}

// State reports whether reads have a snapshot, and whether the Store is
// closed.
func (ss *Snapshots) State() (active, closed bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.cur != nil, ss.closed
}

// Checkpoint copies c (a Pebble checkpoint: hard links) into a new
// private directory under parent and opens the copy, to be made current
// with Snapshots.Replace.
func (c *Catalog) Checkpoint(ctx context.Context, parent string, log *slog.Logger) (*Snapshot, error) {
	dir, err := os.MkdirTemp(parent, fmt.Sprintf("snapshot-%d-", os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("snapshot catalog: %w", err)
	}
	path := filepath.Join(dir, "catalog")
	if err := c.db.Checkpoint(path, pebble.WithFlushedWAL()); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy catalog %s to %s: %w", c.dir, path, err)
	}
	sc, err := Open(ctx, path, log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Snapshot{cat: sc, dir: dir}, nil
}

// RemoveStaleSnapshots deletes private catalog copies left by processes
// that died without Close (kill -9).
func RemoveStaleSnapshots(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "snapshot-*-*"))
	for _, d := range old {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "snapshot-%d-", &pid); err == nil && pid > 0 && lock.ProcessGone(pid) {
			os.RemoveAll(d)
		}
	}
}
