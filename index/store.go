package index

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// Mode says how a Store uses its local catalog.
type Mode int

const (
	// Held keeps the shared catalog open for the Store's life: for
	// commands that read a lot (restore, check, prune).
	Held Mode = iota
	// Detached opens the shared catalog only for short moments, so that
	// several backups in separate processes run at once.
	Detached
	// Snapshot reads a private copy of the catalog, refreshed from the
	// backend by Refresh: for a long-running mount that must not block
	// backups.
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
	// ChunkCacheBytes bounds decoded chunks kept for reads; default 256 MiB.
	ChunkCacheBytes int64
	// Workers for hashing and compression; default GOMAXPROCS.
	Workers int
	// DiffCacheBytes bounds the estimated heap of computed @diff results
	// kept for reuse; default 64 MiB. Large diff content spills to disk.
	DiffCacheBytes int64
}

// Store is an open strata store: the backend plus its local catalog.
type Store struct {
	be      backends.Backend
	cfg     Config
	opts    Options
	log     *slog.Logger
	catDir  string
	cat     *catalog // nil in Detached mode outside catalog sessions
	snapDir string
	cache   *chunkCache
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
	cfg, err := loadConfig(ctx, be)
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
		opts.ChunkCacheBytes = 256 << 20
	}
	s := &Store{be: be, cfg: cfg, opts: opts, log: opts.Logger, catDir: filepath.Join(opts.CacheDir, cfg.ID, "catalog")}
	s.cache = newChunkCache(opts.ChunkCacheBytes)
	s.diffs = newDiffCache(filepath.Dir(s.catDir), opts.DiffCacheBytes)
	switch opts.Mode {
	case Held:
		s.cat, err = s.openShared(ctx)
	case Snapshot:
		err = s.openSnapshot(ctx)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) openShared(ctx context.Context) (*catalog, error) {
	c, err := openCatalog(ctx, s.catDir, s.log)
	if err != nil {
		return nil, err
	}
	if err := c.sync(ctx, s.be); err != nil {
		c.close()
		return nil, fmt.Errorf("sync catalog with %s: %w", s.be.Location(), err)
	}
	return c, nil
}

// openSnapshot syncs the shared catalog, copies it (a Pebble checkpoint:
// hard links) into a private directory and opens the copy.
func (s *Store) openSnapshot(ctx context.Context) error {
	shared, err := s.openShared(ctx)
	if err != nil {
		return err
	}
	removeStaleSnapshots(filepath.Dir(s.catDir))
	dir, err := os.MkdirTemp(filepath.Dir(s.catDir), fmt.Sprintf("snapshot-%d-", os.Getpid()))
	if err != nil {
		shared.close()
		return err
	}
	snap := filepath.Join(dir, "catalog")
	err = shared.db.Checkpoint(snap, pebble.WithFlushedWAL())
	shared.close()
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("copy catalog: %w", err)
	}
	s.snapDir = dir
	s.cat, err = openCatalog(ctx, snap, s.log)
	return err
}

// withCatalog runs fn with the shared catalog, synced; in Detached mode it
// opens it just for fn.
func (s *Store) withCatalog(ctx context.Context, fn func(*catalog) error) error {
	if s.cat != nil {
		if err := s.cat.sync(ctx, s.be); err != nil {
			return fmt.Errorf("sync catalog with %s: %w", s.be.Location(), err)
		}
		return fn(s.cat)
	}
	c, err := s.openShared(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	return fn(c)
}

// Refresh loads versions and indexes written since the catalog was last
// synced (by other processes), and drops forgotten versions.
func (s *Store) Refresh(ctx context.Context) error {
	return s.withCatalog(ctx, func(*catalog) error { return nil })
}

// Close releases the catalog.
func (s *Store) Close() error {
	var err error
	s.diffs.close()
	if s.cat != nil {
		err = s.cat.close()
		s.cat = nil
	}
	if s.snapDir != "" {
		os.RemoveAll(s.snapDir)
	}
	return err
}

// Config returns the store's config.
func (s *Store) Config() Config { return s.cfg }

// Backend returns the store's backend.
func (s *Store) Backend() backends.Backend { return s.be }

func (s *Store) catalog() (*catalog, error) {
	if s.cat == nil {
		return nil, fmt.Errorf("store opened detached: no catalog for reads")
	}
	return s.cat, nil
}

func rootEntry(v Version) sources.Entry {
	return sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: v.Time}
}

func nowUTC() time.Time { return time.Now().UTC() }

// Rebuild deletes the local catalog and recreates it from the backend alone.
func Rebuild(ctx context.Context, be backends.Backend, opts Options) (*Store, error) {
	cfg, err := loadConfig(ctx, be)
	if err != nil {
		return nil, err
	}
	if opts.CacheDir == "" {
		opts.CacheDir = DefaultCacheDir()
	}
	dir := filepath.Join(opts.CacheDir, cfg.ID, "catalog")
	c, err := openCatalog(ctx, dir, slog.Default()) // waits for other users, then holds it
	if err != nil {
		return nil, err
	}
	c.close()
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("remove catalog %s: %w", dir, err)
	}
	opts.Mode = Held
	return Open(ctx, be, opts)
}

// removeStaleSnapshots deletes private catalog copies left by processes
// that died without Close (kill -9).
func removeStaleSnapshots(dir string) {
	old, _ := filepath.Glob(filepath.Join(dir, "snapshot-*-*"))
	for _, d := range old {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), "snapshot-%d-", &pid); err == nil && pid > 0 && processGone(pid) {
			os.RemoveAll(d)
		}
	}
}
