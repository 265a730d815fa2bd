package hdfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/sources"
)

// Source backs up the configured directories of one cluster. It is safe
// for concurrent use.
type Source struct {
	cfg   Config
	specs []dirSpec

	mu     sync.Mutex
	conns  []*conn // connected on first use
	closed bool
}

var _ sources.SessionSource = (*Source)(nil)

// conn is a client and its NameNode handle.
type conn struct {
	c  *hdfs.Client
	nn *namenode
}

// errorf is fmt.Errorf, named for the registration's messages.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// New checks cfg and fills its defaults. It does not contact the cluster:
// that happens on first use.
func New(cfg Config) (*Source, error) {
	cfg, specs, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, specs: specs}, nil
}

// dial connects a client as cfg's user.
func dial(namenodes []string, user string) (*conn, error) {
	c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: namenodes, User: user})
	if err != nil {
		return nil, fmt.Errorf("connect to hdfs %s as %s: %w", strings.Join(namenodes, ","), user, err)
	}
	nn, err := newNamenode(c)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &conn{c: c, nn: nn}, nil
}

// poolSize is how many NameNode connections a source keeps: the client
// serialises the calls of one connection, and a backup makes a few per
// file (open, block locations, extended attributes).
const poolSize = 4

// client returns the source's first connection, connecting on first use.
func (s *Source) client() (*conn, error) {
	p, err := s.pool()
	if err != nil {
		return nil, err
	}
	return p[0], nil
}

// pool returns the source's connections, connecting on first use.
func (s *Source) pool() ([]*conn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("hdfs: source used after Close")
	}
	for len(s.conns) < poolSize {
		c, err := dial(s.cfg.Namenodes, s.cfg.User)
		if err != nil {
			return nil, fmt.Errorf("hdfs %s: %w", s.cfg.Cluster, err)
		}
		s.conns = append(s.conns, c)
	}
	return s.conns, nil
}

// Kind returns "hdfs".
func (s *Source) Kind() string { return Kind }

// Discover returns one object per configured directory, globs expanded to
// the directories they match, sorted by table.
func (s *Source) Discover(ctx context.Context) ([]sources.Object, error) {
	c, err := s.client()
	if err != nil {
		return nil, err
	}
	seen := map[string]string{}
	var objs []sources.Object
	for _, sp := range s.specs {
		dirs := []string{sp.dir}
		if sp.table == "" && hasGlob(sp.dir) {
			if dirs, err = glob(ctx, c.c, sp.dir); err != nil {
				return nil, fmt.Errorf("hdfs %s: expand %s: %w", s.cfg.Cluster, sp.dir, err)
			}
		}
		for _, d := range dirs {
			table := sp.table
			if table == "" {
				table = tableOf(d)
			}
			if other, dup := seen[table]; dup && other != d {
				return nil, fmt.Errorf("hdfs %s/%s: table %q names both %s and %s; name one of them TABLE=DIR", s.cfg.Cluster, s.cfg.Database, table, other, d)
			}
			if _, dup := seen[table]; !dup {
				seen[table] = d
				objs = append(objs, s.cfg.objectOf(table, d))
			}
		}
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Table < objs[j].Table })
	return objs, nil
}

// glob returns the directories matching pattern, component by component.
func glob(ctx context.Context, c *hdfs.Client, pattern string) ([]string, error) {
	dirs := []string{"/"}
	for _, part := range strings.Split(strings.Trim(pattern, "/"), "/") {
		var next []string
		for _, d := range dirs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if !hasGlob(part) {
				p := path.Join(d, part)
				if fi, err := c.Stat(p); err == nil && fi.IsDir() {
					next = append(next, p)
				}
				continue
			}
			list, err := c.ReadDir(d)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			for _, fi := range list {
				if ok, err := path.Match(part, fi.Name()); err != nil {
					return nil, err
				} else if ok && fi.IsDir() {
					next = append(next, path.Join(d, fi.Name()))
				}
			}
		}
		dirs = next
	}
	return dirs, nil
}

// dirOf finds the HDFS directory of obj.
func (s *Source) dirOf(obj sources.Object) (string, error) {
	if obj.Cluster != s.cfg.Cluster || obj.Database != s.cfg.Database {
		return "", fmt.Errorf("hdfs: object %s is not in %s/%s", obj, s.cfg.Cluster, s.cfg.Database)
	}
	d := obj.Meta["path"]
	for _, sp := range s.specs {
		if sp.table != "" && sp.table == obj.Table {
			return sp.dir, nil
		}
		if sp.table == "" && d != "" && tableOf(d) == obj.Table {
			if ok, _ := path.Match(sp.dir, d); ok || sp.dir == d {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("hdfs: no directory configured for table %q of %s/%s", obj.Table, s.cfg.Cluster, s.cfg.Database)
}

// Backup backs up one object at its own consistent point: a session of
// one.
func (s *Source) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (res sources.Result, err error) {
	sess, err := s.Begin(ctx, []sources.Object{obj}, w)
	if err != nil {
		return sources.Result{}, err
	}
	defer func() {
		if cerr := sess.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	return sess.Backup(ctx, obj, prev, w)
}

// Close closes the connection.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.c.Close())
	}
	s.conns = nil
	return errors.Join(errs...)
}
