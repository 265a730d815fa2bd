package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/fs"
	"github.com/stratabackup/strata/index"
)

// MountRequest says where and how to mount the store.
type MountRequest struct {
	Mountpoint string
	// AllowOther lets other users read the mount.
	AllowOther bool
	// Debug logs every FUSE request.
	Debug bool
	// BusyPoll is how long the mount's daemon polls for the next request
	// before sleeping (fs.Options.BusyPoll): zero means the default,
	// negative turns it off.
	BusyPoll time.Duration
	// Refresh is how often to look for new versions; default 10s.
	Refresh time.Duration
	// Mounted is told the store's location once the mount is up.
	Mounted func(location string)
	// RefreshFailed is told when looking for new versions fails; the
	// mount keeps serving what it has.
	RefreshFailed func(error)
}

// Mount shows every version as a read-only filesystem until ctx ends (then
// it unmounts) or someone unmounts it.
func (e *Engine) Mount(ctx context.Context, req MountRequest) error {
	if err := checkMountpoint(req.Mountpoint); err != nil {
		return err
	}
	if req.Refresh <= 0 {
		req.Refresh = 10 * time.Second
	}
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	// The first read makes the store's catalog snapshot: pay for it here,
	// not in the first `ls` of the mount.
	if _, err := st.Objects(ctx); err != nil {
		return err
	}
	m, err := fs.Mount(ctx, req.Mountpoint, fs.FromStore(st), fs.Options{Debug: req.Debug, AllowOther: req.AllowOther, BusyPoll: req.BusyPoll, Logger: e.opts.Logger})
	if err != nil {
		return err
	}
	if req.Mounted != nil {
		req.Mounted(st.Backend().Location())
	}
	refreshCtx, stopRefresh := context.WithCancel(ctx)
	defer stopRefresh()
	go refreshLoop(refreshCtx, st, req.Refresh, req.RefreshFailed)
	unmounted := make(chan struct{})
	go func() { m.Wait(); close(unmounted) }()
	select {
	case <-ctx.Done():
		if err := m.Unmount(); err != nil {
			return fmt.Errorf("unmount %s: %w (close files open in it, then `umount %s`)", req.Mountpoint, err, req.Mountpoint)
		}
	case <-unmounted:
	}
	return nil
}

// checkMountpoint refuses a path that is not a directory (saying why, a
// dead mount's "transport endpoint is not connected" included), and a
// directory that is a mount point already (another strata mount, say):
// mounting over it would hide that one until this one ends, after which
// it shows again, and readers of the path could not tell which one they
// read.
func checkMountpoint(dir string) error {
	var st, parent unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return badInput("mount: %s is not a directory (%v)", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return badInput("mount: %s is not a directory", dir)
	}
	if unix.Stat(filepath.Join(dir, ".."), &parent) == nil && parent.Dev != st.Dev {
		return badInput("mount: %s is a mount point already (another strata mount?); unmount it (umount %s) or choose another directory", dir, dir)
	}
	return nil
}

// refreshLoop brings the mount's catalog up to date every interval.
func refreshLoop(ctx context.Context, st *index.Store, every time.Duration, failed func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := st.Refresh(ctx); err != nil && failed != nil && ctx.Err() == nil {
				failed(err)
			}
		}
	}
}
