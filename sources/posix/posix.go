package posix

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// Kind is the source's type name in configs.
const Kind = "posix"

// Config says which directories to back up and under which names.
type Config struct {
	// Cluster and Database name the versions (Cluster/Database/Table).
	Cluster  string
	Database string
	// Roots maps a table name (a relative path, '/' allowed) to the
	// directory backed up under it.
	Roots map[string]string
	// Workers is how many files are read at once; default (0) twice the
	// CPUs on a first backup and four times on later ones (readers).
	Workers int
}

// Source backs up the configured directories. It is safe for concurrent use.
type Source struct {
	cfg Config
}

var _ sources.Source = (*Source)(nil)

// New checks cfg, makes the root directories absolute and fills defaults.
// It does not touch the directories: they may appear later.
func New(cfg Config) (*Source, error) {
	if cfg.Cluster == "" || cfg.Database == "" {
		return nil, fmt.Errorf("posix: cluster and database names are required")
	}
	if len(cfg.Roots) == 0 {
		return nil, fmt.Errorf("posix %s/%s: no directories configured", cfg.Cluster, cfg.Database)
	}
	roots := make(map[string]string, len(cfg.Roots))
	for table, dir := range cfg.Roots {
		if err := checkTable(table); err != nil {
			return nil, fmt.Errorf("posix %s/%s: table %q: %w", cfg.Cluster, cfg.Database, table, err)
		}
		abs, err := filepath.Abs(dir)
		if err != nil || dir == "" {
			return nil, fmt.Errorf("posix %s/%s: table %q: directory %q is not a usable path", cfg.Cluster, cfg.Database, table, dir)
		}
		roots[table] = abs
	}
	cfg.Roots = roots
	return &Source{cfg: cfg}, nil
}

// checkTable accepts relative '/'-separated names without empty, "." or
// ".." components, so that each component is one directory in the mount.
func checkTable(table string) error {
	if table == "" {
		return fmt.Errorf("empty table name")
	}
	for _, c := range strings.Split(table, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("table name must be a relative path without empty, '.' or '..' components")
		}
	}
	return nil
}

// Kind returns "posix".
func (s *Source) Kind() string { return Kind }

// Discover returns one object per configured directory, sorted by table.
func (s *Source) Discover(ctx context.Context) ([]sources.Object, error) {
	objs := make([]sources.Object, 0, len(s.cfg.Roots))
	for table, dir := range s.cfg.Roots {
		objs = append(objs, sources.Object{
			Cluster:  s.cfg.Cluster,
			Database: s.cfg.Database,
			Table:    table,
			Meta:     map[string]string{"path": dir},
		})
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Table < objs[j].Table })
	return objs, nil
}

// Backup writes the tree of obj's directory to w. Unchanged files (same
// fingerprint as in prev) are kept without being read. Result.At is the
// time the walk started: every file is at least as new as that point.
func (s *Source) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	root, err := s.root(obj)
	if err != nil {
		return sources.Result{}, err
	}
	if prev == nil {
		prev = sources.NoPrevious{}
	}
	start := time.Now()
	fi, err := os.Stat(root)
	if err != nil {
		return sources.Result{}, fmt.Errorf("posix %s: directory: %w", obj, err)
	}
	if !fi.IsDir() {
		return sources.Result{}, fmt.Errorf("posix %s: %s is not a directory", obj, root)
	}
	// The root's own mode, mtime and owner, so that a restore or the
	// mount reproduces the directory itself, not only its content.
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err == nil {
		if err := w.Add(ctx, rootEntry(&st), nil); err != nil {
			return sources.Result{}, fmt.Errorf("posix %s: %w", obj, err)
		}
	}
	b := newBackup(root, prev, w, readers(s.cfg.Workers, prev, batchesAvailable()))
	if err := b.run(ctx); err != nil {
		return sources.Result{}, fmt.Errorf("posix %s: %w", obj, err)
	}
	return sources.Result{
		At:       start,
		Meta:     b.stats.meta(root),
		Warnings: b.warn.list(),
	}, nil
}

// root finds the directory configured for obj.
func (s *Source) root(obj sources.Object) (string, error) {
	if obj.Cluster != s.cfg.Cluster || obj.Database != s.cfg.Database {
		return "", fmt.Errorf("posix: object %s is not in %s/%s", obj, s.cfg.Cluster, s.cfg.Database)
	}
	dir, ok := s.cfg.Roots[obj.Table]
	if !ok {
		return "", fmt.Errorf("posix: no directory configured for table %q of %s/%s", obj.Table, s.cfg.Cluster, s.cfg.Database)
	}
	return dir, nil
}

// Close does nothing: the source holds nothing open between backups.
func (s *Source) Close() error { return nil }

// readers is how many files a backup reads at once: the configured
// number, else on a first backup the CPUs when small files are read in
// batches (batch.go: the readers then mostly hash and cut what the
// batcher read; first backups of the kernel tree, three runs each: four
// readers 130-140 MB peak RSS in 8.0-9.6 s, two 116-125 MB in 9.3-9.8 s;
// of the generated set, four 10.8-11.1 s, two 9.8-10.9 s) and twice the
// CPUs when they are not, whose new content keeps the cores compressing
// (more readers there only hold more buffers: peak RSS 137-149 -> 143-164
// MB with eight); and four times the CPUs on later ones, where nearly every
// chunk read is stored already and the pipeline waits on the disk: a
// cold backup of the kernel tree with every file's mtime changed took
// 5.1-5.3 s with four readers and 4.2-5.1 s with eight (2 cores, three
// runs each way).
func readers(configured int, prev sources.Previous, batched bool) int {
	switch {
	case configured > 0:
		return configured
	case firstBackup(prev) && batched:
		return sources.CPUs()
	case firstBackup(prev):
		return 2 * sources.CPUs()
	default:
		return 4 * sources.CPUs()
	}
}

// firstBackup reports whether prev is no version (a stored one has a
// time).
func firstBackup(prev sources.Previous) bool { return prev == nil || prev.Info().Time.IsZero() }
