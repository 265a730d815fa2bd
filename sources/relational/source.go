package relational

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/stratabackup/strata/sources"
)

var (
	_ sources.Source        = (*Source)(nil)
	_ sources.SessionSource = (*Source)(nil)
)

// Config says which server to back up and how.
type Config struct {
	// DSN addresses the server; it may hold credentials, which are never
	// logged nor recorded.
	DSN string
	// Cluster names the cluster in the store.
	Cluster string
	// Databases limits discovery to these databases; empty means every
	// user database.
	Databases []string
	// Named are "db/schema.table" or "db/schema" names discovered even in
	// system schemas.
	Named []string
	// Workers is how many connections read at once (default 2).
	Workers int
	// RangeRows is the target number of rows of one key range; larger
	// tables are read in parallel ranges (default 250,000).
	RangeRows int64
	// BlockRows is the target number of rows of a checksummed block of a
	// table keyed by one integer (MariaDB/MySQL, blocks.go; default
	// 10,000).
	BlockRows int64
	// Logger receives progress and swallowed errors (default slog.Default).
	Logger *slog.Logger
}

func (c Config) withDefaults(kind string) (Config, error) {
	if c.DSN == "" {
		return c, fmt.Errorf("%s source %q: no DSN configured (give --dsn, its environment variable or --dsn-file)", kind, c.Cluster)
	}
	if c.Cluster == "" {
		return c, fmt.Errorf("%s source: no cluster name configured", kind)
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.RangeRows <= 0 {
		c.RangeRows = 250_000
	}
	if c.BlockRows <= 0 {
		c.BlockRows = 10_000
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("source", kind, "cluster", c.Cluster)
	return c, nil
}

// Source backs up the tables of one database server.
type Source struct {
	d   dialect
	cfg Config
	srv server
}

// newSource validates cfg; the server is contacted on first use.
func newSource(d dialect, cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults(d.name())
	if err != nil {
		return nil, err
	}
	return &Source{d: d, cfg: cfg}, nil
}

func (s *Source) server(ctx context.Context) (server, error) {
	if s.srv != nil {
		return s.srv, nil
	}
	srv, err := s.d.open(ctx, s.cfg.DSN, s.cfg.Logger)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	return srv, nil
}

// Kind returns the dialect's kind name.
func (s *Source) Kind() string { return s.d.name() }

// Close closes the server's connections.
func (s *Source) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.close()
}

// Discover lists the tables and views of the configured databases as
// <database>/<schema>.<table>, sorted.
func (s *Source) Discover(ctx context.Context) ([]sources.Object, error) {
	srv, err := s.server(ctx)
	if err != nil {
		return nil, err
	}
	dbs := s.cfg.Databases
	if len(dbs) == 0 {
		if dbs, err = srv.databases(ctx); err != nil {
			return nil, fmt.Errorf("%s %s: list databases: %w", s.Kind(), srv.redacted(), err)
		}
	}
	var objs []sources.Object
	for _, db := range dbs {
		tabs, err := srv.tables(ctx, db, s.named(db))
		if err != nil {
			return nil, fmt.Errorf("%s %s: list tables of %s: %w", s.Kind(), srv.redacted(), db, err)
		}
		for _, t := range tabs {
			objs = append(objs, s.object(db, t))
		}
	}
	slices.SortFunc(objs, func(a, b sources.Object) int {
		return strings.Compare(a.Database+"\x00"+a.Table, b.Database+"\x00"+b.Table)
	})
	return objs, nil
}

// named returns the schema or schema.table names configured for db.
func (s *Source) named(db string) []string {
	var out []string
	for _, n := range s.cfg.Named {
		if d, rest, ok := strings.Cut(n, "/"); ok && d == db {
			out = append(out, rest)
		}
	}
	return out
}

// object names a table as a store object; names are escaped so each level
// is one path component, and the raw names are kept in Meta.
func (s *Source) object(db string, t tableName) sources.Object {
	meta := map[string]string{"database": db, "schema": t.Schema, "table": t.Name, "type": "table"}
	if t.View {
		meta["type"] = "view"
	}
	return sources.Object{
		Cluster:  s.cfg.Cluster,
		Database: sources.EscapeName(db),
		Table:    sources.EscapeName(t.Schema + "." + t.Name),
		Meta:     meta,
	}
}

// rawNames returns an object's database, schema and table as the server
// knows them: from Meta, or by reversing the escaping of a hand-named one.
func rawNames(obj sources.Object) (db string, t tableName, err error) {
	if obj.Meta["table"] != "" {
		return obj.Meta["database"], tableName{Schema: obj.Meta["schema"], Name: obj.Meta["table"], View: obj.Meta["type"] == "view"}, nil
	}
	db, ok1 := sources.UnescapeName(obj.Database)
	st, ok2 := sources.UnescapeName(obj.Table)
	schema, name, ok3 := strings.Cut(st, ".")
	if !ok1 || !ok2 || !ok3 {
		return "", tableName{}, fmt.Errorf("%s: not a <database>/<schema>.<table> name", obj)
	}
	return db, tableName{Schema: schema, Name: name}, nil
}

// Backup backs up one table at a point of its own.
func (s *Source) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	sess, err := s.Begin(ctx, []sources.Object{obj}, w)
	if err != nil {
		return sources.Result{}, err
	}
	defer sess.Close()
	return sess.Backup(ctx, obj, prev, w)
}
