package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"go.mongodb.org/mongo-driver/mongo/readpref"

	"github.com/stratabackup/strata/sources"
)

var (
	_ sources.Source = (*Source)(nil)
	_ sources.Differ = (*Source)(nil)
)

// Source backs up the collections of one MongoDB deployment.
type Source struct {
	cfg    Config
	client *mongo.Client
}

// New validates cfg and prepares a client; the driver connects lazily, so
// an unreachable server shows up at the first Discover or Backup.
func New(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	client, err := connect(cfg.URI)
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg, client: client}, nil
}

// connect builds a client that reads from the primary only, so that all
// ranges of one collection come from one member.
func connect(uri string) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(uri).SetReadPreference(readpref.Primary())
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mongodb %s: bad connection string: %w", RedactURI(uri), err)
	}
	client, err := mongo.Connect(context.Background(), opts)
	if err != nil {
		return nil, fmt.Errorf("connect to mongodb %s: %w", RedactURI(uri), err)
	}
	return client, nil
}

// Close disconnects from the server, waiting at most 10 seconds for
// in-flight operations.
func (s *Source) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("disconnect from mongodb %s: %w", RedactURI(s.cfg.URI), err)
	}
	return nil
}

// Kind returns "mongodb".
func (s *Source) Kind() string { return "mongodb" }

// Discover lists every collection and view of the configured databases,
// sorted by database and name. System databases and system.* collections
// are left out unless configured by name.
func (s *Source) Discover(ctx context.Context) ([]sources.Object, error) {
	dbs, err := s.databases(ctx)
	if err != nil {
		return nil, err
	}
	var objs []sources.Object
	for _, db := range dbs {
		colls, err := listCollections(ctx, s.client.Database(db), bson.D{})
		if err != nil {
			return nil, fmt.Errorf("mongodb %s: %w", RedactURI(s.cfg.URI), err)
		}
		for _, c := range colls {
			if s.wanted(db, c.Name) {
				objs = append(objs, s.object(db, c))
			}
		}
	}
	slices.SortFunc(objs, func(a, b sources.Object) int {
		return strings.Compare(a.Database+"\x00"+a.Table, b.Database+"\x00"+b.Table)
	})
	return objs, nil
}

func (s *Source) databases(ctx context.Context) ([]string, error) {
	if len(s.cfg.Databases) > 0 {
		return s.cfg.Databases, nil
	}
	names, err := s.client.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		return nil, fmt.Errorf("list databases of mongodb %s: %w", RedactURI(s.cfg.URI), err)
	}
	var out []string
	for _, n := range names {
		if !isSystemDB(n) || s.namedDB(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

func isSystemDB(db string) bool { return db == "admin" || db == "local" || db == "config" }

// namedDB reports whether a configured collection lies in db.
func (s *Source) namedDB(db string) bool {
	for _, c := range s.cfg.Collections {
		if strings.HasPrefix(c, db+".") {
			return true
		}
	}
	return false
}

func (s *Source) wanted(db, coll string) bool {
	return !strings.HasPrefix(coll, "system.") || slices.Contains(s.cfg.Collections, db+"."+coll)
}

// object names a collection as a store object; names that are not safe as
// one path component are escaped and the raw name kept in Meta.
func (s *Source) object(db string, c collInfo) sources.Object {
	o := sources.Object{Cluster: s.cfg.Cluster, Database: db, Table: c.Name, Meta: c.meta()}
	if esc := sources.EscapeName(c.Name); esc != c.Name {
		o.Table = esc
		o.Meta["collection"] = c.Name
	}
	if esc := sources.EscapeName(db); esc != db {
		o.Database = esc
		o.Meta["database"] = db
	}
	return o
}

// rawNames returns an object's database and collection as the server
// knows them.
func rawNames(obj sources.Object) (db, coll string) {
	return rawName(obj.Meta, "database", obj.Database), rawName(obj.Meta, "collection", obj.Table)
}

// rawName prefers the raw name recorded at discovery and else reverses
// the escaping, so that objects named by hand work too.
func rawName(meta map[string]string, key, escaped string) string {
	if v, ok := meta[key]; ok {
		return v
	}
	if raw, ok := sources.UnescapeName(escaped); ok {
		return raw
	}
	return escaped
}
