package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/index/lock"
	"github.com/stratabackup/strata/sources"
)

// Mode says how a Store holds the shared catalog. In every mode one Store
// backs up, reads, forgets and prunes: reads go to a private snapshot of
// the catalog, replaced by Refresh and after this Store's own commits,
// forgets and prunes; backups, forget and prune use the shared catalog in
// short sessions. Pebble lets one process at a time open the shared
// catalog, so the modes differ in how long they keep it.
type Mode int

const (
	// Held keeps the shared catalog open for the Store's life, so its
	// sessions never wait for it, but other processes wait until Close:
	// for short commands (rebuild, forget).
	Held Mode = iota
	// Detached opens the shared catalog only for sessions, so that
	// backups, mounts and prunes in other processes run at once, and
	// takes the read snapshot at the first read: for a backup process.
	Detached
	// Snapshot is Detached with the read snapshot taken at Open: for a
	// daemon or a mount, which read from the start.
	Snapshot
)

// Options configure Open. The zero value is usable.
type Options struct {
	// CacheDir holds the catalog; default $STRATA_CACHE, else
	// $XDG_CACHE_HOME/strata, else ~/.cache/strata.
	CacheDir string
	Mode     Mode
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Differs computes @diff contents for row sources, by source kind.
	Differs map[string]sources.Differ
	// ChunkCacheBytes bounds decoded chunks kept for reads; default 64
	// MiB. The mount pushes small files into the kernel's page cache and
	// the kernel keeps what it read, so this cache holds mostly what is
	// read ahead: at 256 MiB a mount's tar of a 78,000-file tree peaked at
	// 718-748 MB RSS, at 64 MiB at 372-490 MB, in the same time; large
	// files read as fast.
	ChunkCacheBytes int64
	// Workers for hashing and compression; default GOMAXPROCS.
	Workers int
	// DiffCacheBytes bounds the estimated heap of computed @diff results
	// kept for reuse; default 64 MiB. Large diff content spills to disk.
	DiffCacheBytes int64
}

// Store is an open strata store: the backend plus its local catalog.
type Store struct {
	be     backends.Backend
	cfg    Config
	opts   Options
	log    *slog.Logger
	catDir string
	// sessMu serializes this Store's sessions with the shared catalog
	// (Pebble would make a second one in this process wait anyway); held
	// is the shared catalog, kept open in Held mode only.
	sessMu sync.Mutex
	held   *catalog.Catalog
	// warned are the damaged objects this Store has logged (under sessMu).
	warned map[string]bool
	// relocMu serializes refreshes for reads whose pack a prune moved;
	// relocAt is the last one (relocate).
	relocMu sync.Mutex
	relocAt time.Time
	// reads is what every read asks: a view of snaps, the Store's current
	// snapshot of the shared catalog.
	reads *catalog.Catalog
	snaps *catalog.Snapshots
	cache *chunkCache
	// windows hold recently read stretches of packs (packwindow.go).
	windows *windowCache
	diffs   *diffCache // computed @diff results, bounded (diffcache.go)
	// fmtMu guards fmtUpgraded: this process moved the store to
	// FormatVersion (s.cfg keeps the format it was opened with).
	fmtMu       sync.Mutex
	fmtUpgraded bool
}

// DefaultCacheDir returns where catalogs live unless told otherwise.
func DefaultCacheDir() string {
	if d := os.Getenv("STRATA_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "strata")
	}
	return filepath.Join(os.TempDir(), "strata-cache")
}

// Open opens the store on be and brings the catalog up to date with the
// backend.
func Open(ctx context.Context, be backends.Backend, opts Options) (*Store, error) {
	cfg, err := format.LoadConfig(ctx, be)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ChunkCacheBytes <= 0 {
		opts.ChunkCacheBytes = 64 << 20
	}
	s := &Store{be: be, cfg: cfg, opts: opts, log: opts.Logger, catDir: filepath.Join(opts.CacheDir, cfg.ID, "catalog")}
	s.cache = newChunkCache(opts.ChunkCacheBytes)
	s.windows = newWindowCache()
	s.diffs = newDiffCache(filepath.Dir(s.catDir), opts.DiffCacheBytes)
	s.snaps = catalog.NewSnapshots(s.log)
	s.reads = catalog.NewView(s.snaps, s.catDir+" (snapshot)")
	if err := s.openCatalogs(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// openCatalogs holds the shared catalog in Held mode and, unless the
// Store is Detached, takes the first read snapshot now, so that a bad
// catalog or backend fails Open rather than the first read.
func (s *Store) openCatalogs(ctx context.Context) error {
	catalog.RemoveStaleSnapshots(filepath.Dir(s.catDir))
	if s.opts.Mode == Held {
		c, err := catalog.Open(ctx, s.catDir, s.log)
		if err != nil {
			return err
		}
		s.held = c
	}
	if s.opts.Mode == Detached {
		return nil
	}
	if err := s.Refresh(ctx); err != nil {
		if s.held != nil {
			s.held.Close()
			s.held = nil
		}
		s.snaps.Close()
		return err
	}
	return nil
}

// withCatalog runs fn in a session with the shared catalog (see session).
func (s *Store) withCatalog(ctx context.Context, fn func(*catalog.Catalog) error) error {
	return s.session(ctx, false, nil, fn)
}

// syncCatalog brings the shared catalog up to date with the backend, and
// this Store's reads if it reads (see session): after forget or prune
// changed the backend, or to fill a rebuilt catalog.
func (s *Store) syncCatalog(ctx context.Context) error { return s.session(ctx, false, nil, nil) }

// lockWaiter tells waiting (if set) who holds a lock the Store waits for.
func lockWaiter(waiting func(string)) func(lock.Info) {
	return func(li lock.Info) {
		if waiting != nil {
			waiting(li.String())
		}
	}
}

// Refresh loads versions and indexes written since the catalog was last
// synced (by other processes), drops forgotten versions, and gives this
// Store's reads a new snapshot if anything changed; reads running
// meanwhile finish on the old one.
func (s *Store) Refresh(ctx context.Context) error {
	return s.session(ctx, true, nil, nil)
}

// session runs fn (if any) with the shared catalog, synced with the
// backend. record (if any) runs before the sync: what this Store wrote to
// the backend and records itself, so that the sync does not read it back.
// Outside Held mode the catalog is opened just for the session, so that
// other processes (backups, mounts, prunes) use it in between. At the end
// of a session, if this Store reads (or snap asks), its read snapshot is
// brought up to date with the shared catalog: this Store sees its own
// commits, forgets and prunes at once.
func (s *Store) session(ctx context.Context, snap bool, record, fn func(*catalog.Catalog) error) error {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	c, done, err := s.shared(ctx)
	if err != nil {
		return err
	}
	defer done()
	if record != nil {
		if err := record(c); err != nil {
			return err
		}
	}
	if err := c.Sync(ctx, s.be); err != nil {
		// Left half synced: the next session finishes the sync before
		// any snapshot is taken.
		return fmt.Errorf("sync catalog with %s: %w", s.be.Location(), err)
	}
	s.warnDamaged(c)
	if fn != nil {
		err = fn(c)
	}
	if active, _ := s.snaps.State(); snap || active {
		if serr := s.freshen(ctx, c); serr != nil && err == nil {
			err = serr
		}
	}
	return err
}

// warnDamaged logs, once per Store, each object the catalog could not
// load because it is damaged: the versions it hides are not listed, so
// the log is where a user learns of them (check reports them too).
// Callers hold sessMu.
func (s *Store) warnDamaged(c *catalog.Catalog) {
	ds, err := c.Damaged()
	if err != nil {
		s.log.Warn("list damaged objects", "store", s.be.Location(), "err", err)
		return
	}
	for _, d := range ds {
		if s.warned[d.Name] {
			continue
		}
		if s.warned == nil {
			s.warned = map[string]bool{}
		}
		s.warned[d.Name] = true
		what := "index file (its chunks' versions may be unreadable)"
		if d.IsVersion() {
			what = "version (not listed)"
		}
		s.log.Warn("damaged "+what+"; `strata check` says what it affects", "object", d.Name, "problem", d.Problem)
	}
}

// shared returns the shared catalog (the held one, or one opened for
// the caller) and what to call when done with it. Callers hold sessMu.
func (s *Store) shared(ctx context.Context) (*catalog.Catalog, func(), error) {
	if s.held != nil {
		return s.held, func() {}, nil
	}
	c, err := catalog.OpenSession(ctx, s.catDir, s.log)
	if err != nil {
		return nil, nil, err
	}
	return c, func() { c.Close() }, nil
}

// withCatalogAsIs runs fn on the shared catalog as it stands, without the
// backend sync a session starts with: for reads inside a backup run,
// whose catalog was synced when the run began and again by each commit.
// Another process's version committed since is not seen, which is safe:
// it only means an older dedup base.
func (s *Store) withCatalogAsIs(ctx context.Context, fn func(*catalog.Catalog) error) error {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	c, done, err := s.shared(ctx)
	if err != nil {
		return err
	}
	defer done()
	return fn(c)
}

// freshen replaces the read snapshot by a copy of the shared catalog c,
// unless it holds the same data already (the same generation): an idle
// mount's periodic Refresh costs a sync with the backend, not a copy.
func (s *Store) freshen(ctx context.Context, c *catalog.Catalog) error {
	if active, _ := s.snaps.State(); active {
		cur, err := s.reads.Generation()
		shared, serr := c.Generation()
		if err == nil && serr == nil && bytes.Equal(cur, shared) {
			return nil
		}
	}
	return s.snapshot(ctx, c)
}

// snapshot copies the shared catalog c into a private directory and
// makes the copy the one that reads go to.
func (s *Store) snapshot(ctx context.Context, c *catalog.Catalog) error {
	sn, err := c.Checkpoint(ctx, filepath.Dir(s.catDir), s.log)
	if err != nil {
		return err
	}
	return s.snaps.Replace(sn)
}

// Close releases the catalog. Reads still running finish on their
// snapshot, which is closed after them; later reads fail.
func (s *Store) Close() error {
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	var err error
	s.diffs.close()
	if s.held != nil {
		err = s.held.Close()
		s.held = nil
	}
	s.snaps.Close()
	return err
}

// Config returns the store's config.
func (s *Store) Config() Config { return s.cfg }

// Backend returns the store's backend.
func (s *Store) Backend() backends.Backend { return s.be }

// catalog returns the catalog that reads ask (see readCatalog), for
// callers without a context.
func (s *Store) catalog() (*catalog.Catalog, error) { return s.readCatalog(context.Background()) }

// readCatalog returns the catalog that reads ask: a view of the Store's
// current snapshot. A Detached Store takes its first snapshot here.
func (s *Store) readCatalog(ctx context.Context) (*catalog.Catalog, error) {
	active, closed := s.snaps.State()
	if closed {
		return nil, fmt.Errorf("read catalog: %w", catalog.ErrClosed)
	}
	if !active {
		if err := s.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("take the first catalog snapshot: %w", err)
		}
	}
	return s.reads, nil
}

func nowUTC() time.Time { return time.Now().UTC() }

// removeCatalog deletes the catalog at dir by first renaming it aside in
// one step, so that a kill midway leaves either the whole catalog or
// none, never a half-deleted one that no command (rebuild included) can
// open. Leftovers of earlier kills go too.
func removeCatalog(dir string) error {
	aside := fmt.Sprintf("%s.removing-%s", dir, format.RandomID()[:8])
	if err := os.Rename(dir, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove catalog %s: %w", dir, err)
	}
	old, _ := filepath.Glob(dir + ".removing-*")
	for _, o := range old {
		if err := os.RemoveAll(o); err != nil {
			return fmt.Errorf("remove old catalog %s: %w", o, err)
		}
	}
	return nil
}

// Rebuild deletes the local catalog and recreates it from the backend
// alone, returning a Store in opts.Mode: only a Held one keeps other
// processes from the rebuilt catalog until Close.
func Rebuild(ctx context.Context, be backends.Backend, opts Options) (*Store, error) {
	cfg, err := format.LoadConfig(ctx, be)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	dir := filepath.Join(opts.CacheDir, cfg.ID, "catalog")
	// Open waits while another process uses the catalog. A catalog that
	// fails to open otherwise is what a rebuild is for (one killed while
	// deleting it left tables its manifest names): go on and replace it.
	c, err := catalog.Open(ctx, dir, slog.Default())
	if err == nil {
		c.Close()
	} else if ctx.Err() != nil {
		return nil, err
	}
	if err := removeCatalog(dir); err != nil {
		return nil, err
	}
	s, err := Open(ctx, be, opts)
	if err != nil || opts.Mode != Detached {
		return s, err
	}
	// A Detached Open leaves the catalog alone: fill it now, in one
	// session, so that other processes get it back rebuilt.
	if err := s.syncCatalog(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("rebuild catalog %s: %w", dir, err)
	}
	return s, nil
}
