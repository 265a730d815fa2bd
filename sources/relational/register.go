package relational

import (
	"fmt"
	"os"
	"strings"

	"github.com/stratabackup/strata/sources"
)

// Kind names, one per database, so that `strata backup postgres` and
// `strata restore --to-postgres DSN` read naturally.
const (
	KindPostgres  = "postgres"
	KindMySQL     = "mysql"
	KindSQLServer = "sqlserver"
)

// Option names.
const (
	optDSN     = "dsn"
	optDSNFile = "dsn-file"
	optWorkers = "workers"
)

func init() {
	register(pgDialect{}, "PostgreSQL", "STRATA_POSTGRES_DSN", "postgres://USER@HOST:5432/DB",
		"<table>.copy in COPY text (psql: \\copy t from '<table>.copy'), schema.sql from pg_dump --schema-only",
		true, pgLoader{})
	register(myDialect{}, "MariaDB/MySQL", "STRATA_MYSQL_DSN", "USER@tcp(HOST:3306)/DB",
		"<table>.tsv in LOAD DATA's default text format, load.sql with the LOAD DATA statement, schema.sql from SHOW CREATE TABLE",
		true, myLoader{})
	register(msDialect{}, "SQL Server", "STRATA_SQLSERVER_DSN", "sqlserver://USER@HOST:1433?database=DB",
		"<table>.bcp in bcp character format (UTF-8) with <table>.fmt, its non-XML format file (bcp t in t.bcp -f t.fmt -C 65001 -k -E), schema.sql generated from the catalog",
		false, nil)
}

// msOneWorker says why SQL Server reads on one connection: a SNAPSHOT
// transaction's point is fixed by its own first read, and no other
// connection can read in it concurrently (PostgreSQL imports an exported snapshot,
// MariaDB starts every worker's snapshot under one lock), so a second
// connection would read the database at another point.
const msOneWorker = "SQL Server reads every table on the one connection of its SNAPSHOT transaction, which other connections cannot read in at the same time"

// register registers a dialect's kind. parallel says whether its
// snapshot spans several connections; without it the help must not
// promise parallel reads, and --workers above 1 is refused rather than
// ignored.
func register(d dialect, title, env, example, files string, parallel bool, loader sources.Loader) {
	reading, workers := "large tables in parallel key ranges", "connections reading at once (default 2)"
	if !parallel {
		reading, workers = "on one connection", "1 only: "+msOneWorker
	}
	k := sources.Kind{
		Name:      d.name(),
		Usage:     "back up " + title + " tables in the database's bulk-load format",
		UsageText: "strata backup " + d.name() + " --cluster NAME [--dsn-file FILE] [--only DB[/SCHEMA.TABLE]]   (DSN in $" + env + ")",
		Description: "One version per table, <cluster>/<database>/<schema>.<table>: " + files + `.
Every table of one run is read at one consistent point, rows in primary-key
order, ` + reading + `. Unchanged rows are stored as references to
the previous version. The DSN (` + example + `) may hold a
password: give it in $` + env + ` or a file (--dsn-file), never on a command
line; it is never logged or recorded. System schemas are left out unless
named with --only.`,
		Options: []sources.Option{
			{Name: optDSN, Secret: true, EnvVars: []string{env}, Usage: "connection string (" + example + "); prefer $" + env},
			{Name: optDSNFile, Usage: "read the connection string from this file"},
			{Name: optWorkers, Usage: workers},
		},
		New:    func(cfg sources.Config) (sources.Source, error) { return newFromConfig(d, env, parallel, cfg) },
		Differ: Differ{d: d},
	}
	if loader != nil {
		k.Loader = loader
		k.LoadTakes = sources.LoadCommon{Database: true, Table: true, Drop: true}
		k.LoadTarget = "DSN"
	}
	if d.name() == KindPostgres {
		k.LoadFlags = []sources.Option{{Name: OptSchema, Usage: "target schema (default: the version's)"},
			{Name: OptJobs, Usage: "COPY connections filling a new table of 64 MiB or more at once, in a staging schema moved into place in one transaction (default 2; 1: one transaction with COPY FREEZE)"}}
	}
	sources.Register(k)
}

// newFromConfig builds a source from generic settings.
func newFromConfig(d dialect, env string, parallel bool, cfg sources.Config) (sources.Source, error) {
	dsn, err := readDSN(cfg, env)
	if err != nil {
		return nil, fmt.Errorf("%s source: %w", d.name(), err)
	}
	c := Config{DSN: dsn, Cluster: cfg.Cluster()}
	c.Databases, c.Named = Scope(cfg.All(sources.OptOnly))
	if c.Workers, err = cfg.Count(optWorkers, 64); err != nil {
		return nil, fmt.Errorf("%s source: %w", d.name(), err)
	}
	if !parallel && c.Workers > 1 {
		return nil, fmt.Errorf("%s source: setting %s=%d: want 1 or none; %s", d.name(), optWorkers, c.Workers, msOneWorker)
	}
	return newSource(d, c)
}

// readDSN takes the DSN from --dsn (or its environment variable) or from
// the file --dsn-file names.
func readDSN(cfg sources.Config, env string) (string, error) {
	if dsn := cfg.Get(optDSN); dsn != "" {
		return dsn, nil
	}
	if f := cfg.Get(optDSNFile); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("read the DSN file: %w", err)
		}
		if dsn := strings.TrimSpace(string(b)); dsn != "" {
			return dsn, nil
		}
		return "", fmt.Errorf("DSN file %s is empty", f)
	}
	return "", fmt.Errorf("no DSN: set $%s or give --dsn-file", env)
}

// Scope turns DB[/SCHEMA.TABLE] patterns into the discovery scope: when
// every pattern names its database literally, only those databases are
// listed; literal schema or schema.table names are discovered even when
// they are system schemas. Patterns are store names, so they are
// unescaped.
func Scope(patterns []string) (dbs, named []string) {
	allDBs := len(patterns) > 0
	for _, p := range patterns {
		dbPat, tPat, hasT := strings.Cut(p, "/")
		db, ok := literalName(dbPat)
		if !ok {
			allDBs = false
			continue
		}
		if !contains(dbs, db) {
			dbs = append(dbs, db)
		}
		if t, ok := literalName(tPat); hasT && ok {
			named = append(named, db+"/"+t)
		}
	}
	if !allDBs {
		dbs = nil
	}
	return dbs, named
}

func literalName(pattern string) (string, bool) {
	if pattern == "" || strings.ContainsAny(pattern, `*?[\`) {
		return "", false
	}
	return sources.UnescapeName(pattern)
}
