package fs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Options configure a mount. The zero value mounts for the calling user
// only, without debug output.
type Options struct {
	// Debug logs every FUSE request (through Logger, at info level).
	// Default false.
	Debug bool
	// AllowOther lets other users see the tree (needs user_allow_other
	// in /etc/fuse.conf unless root). Default false.
	AllowOther bool
	// Logger receives errors turned into EIO and diagnostics. Default:
	// discard.
	Logger *slog.Logger
	// FsName is the source shown in /proc/mounts. Default "strata".
	FsName string
	// BusyPoll is how long the daemon, having answered a metadata
	// request (not a read), polls for the next one before it sleeps.
	// A cold `ls -lR` sends two requests per directory, one after the
	// other; each that finds the daemon asleep pays a wakeup, which on
	// a virtual machine whose idle vCPUs halt costs as much as the
	// request's own work (cold ls -lR of a 78,000-file tree on this
	// project's 2-vCPU test machine: 2.2-2.9 s with 500us against
	// 3.3-6.1 s without, daemon context switches 13,000-16,000 against
	// 35,000). The price is CPU: up to BusyPoll of spinning after each
	// burst of requests, none while the mount is idle. Zero means
	// DefaultBusyPoll; negative turns it off.
	BusyPoll time.Duration
	// handles makes the daemon answer every open and opendir with a
	// handle, as on kernels without no-open support (tests of that path).
	handles bool
}

// DefaultBusyPoll is Options.BusyPoll's default: longer than ls -lR's
// work between one directory's last request and the next one's first
// (about 200us here), so that a listing's requests find the daemon
// awake.
const DefaultBusyPoll = 500 * time.Microsecond

// Mounted is a mounted tree.
type Mounted struct {
	server     *fuse.Server
	mountpoint string
	log        *slog.Logger
	tree       *tree // what is mounted (tests watch its prefetch queue)

	mu        sync.Mutex
	unmounted bool
	stop      func() bool // stops the unmount on ctx cancel
}

// maxIO is the largest read request and the kernel read-ahead: large
// requests are what lets sequential reads stream (PERF.md).
const maxIO = 1 << 20

// Mount shows cat read-only at mountpoint and serves it until Unmount,
// or until ctx is cancelled. As root it mounts directly; otherwise it
// uses fusermount.
func Mount(ctx context.Context, mountpoint string, cat Catalog, opts Options) (*Mounted, error) {
	opts = opts.withDefaults()
	abs, err := filepath.Abs(mountpoint)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	t := newTree(cat, opts.Logger, owner{uid: uint32(os.Getuid()), gid: uint32(os.Getgid()), recorded: os.Geteuid() == 0})
	root := &objDir{t: t}
	fo := fuseOptions(opts, t.owner)
	raw := noOpendir{RawFileSystem: negativeEntries{gofs.NewNodeFS(root, fo)}, on: &t.noOpendir}
	server, err := fuse.NewServer(raw, abs, &fo.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", abs, err)
	}
	t.mayBlock = server.MayBlock
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		return nil, fmt.Errorf("mount %s: wait for the kernel: %w", abs, err)
	}
	flags := server.KernelSettings().Flags64()
	t.noOpen.Store(!opts.handles && flags&fuse.CAP_NO_OPEN_SUPPORT != 0)
	t.noOpendir.Store(!opts.handles && flags&fuse.CAP_NO_OPENDIR_SUPPORT != 0)
	m := &Mounted{server: server, mountpoint: abs, log: opts.Logger, tree: t}
	m.raiseReadAhead()
	m.mu.Lock()
	m.stop = context.AfterFunc(ctx, func() {
		if err := m.Unmount(); err != nil {
			m.log.Error("mount: unmount on cancel", "mountpoint", abs, "err", err)
		}
	})
	m.mu.Unlock()
	return m, nil
}

func (o Options) withDefaults() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.FsName == "" {
		o.FsName = "strata"
	}
	if o.BusyPoll == 0 {
		o.BusyPoll = DefaultBusyPoll
	}
	return o
}

// fuseOptions are go-fuse's options for a read-only, cache-friendly mount.
func fuseOptions(opts Options, o owner) *gofs.Options {
	sec := refreshTimeout
	return &gofs.Options{
		MountOptions: fuse.MountOptions{
			AllowOther:       opts.AllowOther,
			FsName:           opts.FsName,
			Name:             "strata",
			Options:          mountOptions(opts, o),
			DirectMount:      os.Geteuid() == 0,
			DirectMountFlags: syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV,
			DisableXAttrs:    true,
			// Safe: a link's inode changes with its target (links.go).
			EnableSymlinkCaching: true,
			MaxWrite:             maxIO,
			MaxReadAhead:         maxIO,
			// Every read answers with bytes in memory, never a file
			// descriptor to splice from; with splice on, go-fuse still
			// tried it for each reply (a pipe taken, grown, written
			// and drained before giving up): 8% of the daemon's CPU
			// in a tar of 78,000 small files.
			DisableSplice: true,
			BusyPoll:      max(opts.BusyPoll, 0),
			Debug:         opts.Debug,
			Logger:        slog.NewLogLogger(opts.Logger.Handler(), slog.LevelInfo),
		},
		Logger:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
		EntryTimeout:    &sec,
		AttrTimeout:     &sec,
		NegativeTimeout: &sec,
		UID:             o.uid,
		GID:             o.gid,
	}
}

// mountOptions are the mount's -o options. The daemon checks no
// permission itself, so once other users reach the tree (AllowOther),
// or entries show their recorded owners and modes (as root), the kernel
// must enforce those modes (default_permissions): without it any user
// read every file through an --allow-other mount, a 0600 root-owned
// /etc/shadow included. A user's own mount without AllowOther goes
// without, so that its owner is not refused the 0700 directories of
// other people's files, which it shows as the owner's (see owner).
func mountOptions(opts Options, o owner) []string {
	mo := []string{"ro"}
	if opts.AllowOther || o.recorded {
		mo = append(mo, "default_permissions")
	}
	return mo
}

// raiseReadAhead sets the mount's kernel read-ahead to maxIO: MaxReadAhead
// alone does not raise it (PERF.md). It needs root; failure only costs
// speed.
func (m *Mounted) raiseReadAhead() {
	var st unix.Stat_t
	if err := unix.Stat(m.mountpoint, &st); err != nil {
		m.log.Debug("mount: stat mountpoint for read-ahead", "err", err)
		return
	}
	p := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	if err := os.WriteFile(p, []byte(fmt.Sprint(maxIO>>10)), 0); err != nil {
		m.log.Debug("mount: raise read-ahead", "path", p, "err", err)
	}
}

// Mountpoint returns the absolute path the tree is mounted at.
func (m *Mounted) Mountpoint() string { return m.mountpoint }

// Unmount detaches the tree; it fails while files in it are open.
// Unmounting twice is not an error.
func (m *Mounted) Unmount() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.unmounted {
		return nil
	}
	if err := m.server.Unmount(); err != nil {
		return fmt.Errorf("unmount %s: %w", m.mountpoint, err)
	}
	m.unmounted = true
	m.stop()
	return nil
}

// Wait blocks until the tree is unmounted.
func (m *Mounted) Wait() { m.server.Wait() }
