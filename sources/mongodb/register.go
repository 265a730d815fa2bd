package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/stratabackup/strata/sources"
)

func init() {
	sources.Register(sources.Kind{
		Name:      Kind,
		Usage:     "back up MongoDB collections in mongodump's layout",
		UsageText: "strata backup mongodb --cluster NAME --uri mongodb://HOST:PORT/ [--only DB[/COLLECTION]]",
		Description: `One version per collection: <coll>.bson (raw documents in _id order) and
<coll>.metadata.json, as mongodump writes them. Unchanged documents are
stored as references to the previous version, which is read back from
the store for the comparison. Without --only every database except
admin, local and config is backed up, without system.* collections;
naming one literally (--only admin/system.users) backs it up. Literal
database names also spare the server a listDatabases.`,
		Options: []sources.Option{
			{Name: "uri", Required: true, Secret: true, EnvVars: []string{"STRATA_MONGODB_URI"}, Usage: "connection string; credentials in it are never logged or stored"},
		},
		New:       newFromConfig,
		Differ:    Differ{},
		Loader:    loader{},
		LoadTakes: sources.LoadCommon{Database: true, Table: true, Drop: true},
	})
}

// Kind is the source's type name in configs.
const Kind = "mongodb"

// newFromConfig builds a source from generic settings. The --only patterns
// also scope discovery (see Scope).
func newFromConfig(cfg sources.Config) (sources.Source, error) {
	dbs, colls := Scope(cfg.All(sources.OptOnly))
	return New(Config{URI: cfg.Get("uri"), Cluster: cfg.Cluster(), Databases: dbs, Collections: colls})
}

// Scope turns DB[/COLLECTION] patterns into the discovery scope.
// Collections named literally are discovered even when they are system
// ones ("left out unless asked"); when every pattern names its database
// literally, discovery asks only those databases (no listDatabases, which
// can be slow). Patterns are the names as the store shows them, so they
// are unescaped for the server; the caller's filter then keeps exactly
// what the patterns match.
func Scope(patterns []string) (dbs, colls []string) {
	allDBs := len(patterns) > 0
	for _, p := range patterns {
		dbPat, collPat, hasColl := strings.Cut(p, "/")
		db, ok := literalName(dbPat)
		if !ok {
			allDBs = false
			continue
		}
		if !slices.Contains(dbs, db) {
			dbs = append(dbs, db)
		}
		if coll, ok := literalName(collPat); hasColl && ok {
			colls = append(colls, db+"."+coll)
		}
	}
	if !allDBs {
		dbs = nil
	}
	return dbs, colls
}

// literalName returns the raw name a pattern without wildcards stands for.
func literalName(pattern string) (string, bool) {
	if pattern == "" || strings.ContainsAny(pattern, `*?[\`) {
		return "", false
	}
	return sources.UnescapeName(pattern)
}

// loader is the Loader of `strata restore --to-mongodb`.
type loader struct{}

func (loader) Load(ctx context.Context, uri string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	st, err := Restore(ctx, uri, v, RestoreOptions{Database: opts.Database, Collection: opts.Table, Drop: opts.Drop})
	if err != nil {
		return sources.LoadResult{}, err
	}
	return sources.LoadResult{
		Summary: fmt.Sprintf("%d documents written, %d deleted, %d indexes", st.Documents, st.Deleted, st.Indexes),
		Stats:   st,
	}, nil
}
