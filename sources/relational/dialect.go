package relational

import (
	"context"
	"log/slog"
	"time"
)

// dialect is what differs between databases: how to connect, what the
// data file is called, and how its loader is driven.
type dialect interface {
	// name is the kind's name: "postgres", "mysql", "sqlserver".
	name() string
	// ext is the data file's extension without the dot: "copy", "tsv".
	ext() string
	// open connects to the server named by dsn (lazily where the driver
	// allows; errors never include the DSN's credentials).
	open(ctx context.Context, dsn string, log *slog.Logger) (server, error)
	// extras are files a version holds besides schema.sql and the data
	// file, named relative to the version (MySQL's load.sql).
	extras(t *table, dataFile string) []file
	// diffExtras replace extras in a @diff directory: they apply the
	// deleted keys and the changed rows (MySQL's load.sql for a diff).
	diffExtras(l *layout, dataFile, deletedFile string) []file
	// lineKey maps key positions among the columns to tab-separated
	// positions in a data file line (bcp's field terminator holds tabs).
	lineKey(key []int) []int
}

// file is a small file of a version, built in memory.
type file struct {
	Name string
	Data []byte
}

// server is one database server reached through a dialect.
type server interface {
	// databases lists the user databases (system ones left out).
	databases(ctx context.Context) ([]string, error)
	// tables lists the tables and views of db, without system schemas
	// unless they are in named.
	tables(ctx context.Context, db string, named []string) ([]tableName, error)
	// snapshot opens workers connections to db reading at one point.
	snapshot(ctx context.Context, db string, workers int) (snapshot, error)
	// global reports whether one snapshot covers every database of the
	// server (MySQL), so that a run takes one for all.
	global() bool
	// redacted names the server for messages: no credentials.
	redacted() string
	close() error
}

// snapshot is a set of connections that all read one database at one
// consistent point. It is safe for concurrent use: each call takes a
// connection of its own from the set.
type snapshot interface {
	// at is the point's time (UTC).
	at() time.Time
	// consistency says how the point was taken, for the manifest; warn is
	// non-empty when the copy is not consistent.
	consistency() (note, warn string)
	// describe reads a table's columns, key and size at the snapshot.
	describe(ctx context.Context, t tableName) (*table, error)
	// schema returns the table's DDL as the database's tooling writes it.
	schema(ctx context.Context, t *table) ([]byte, error)
	// split cuts the table's key space into about parts ranges.
	split(ctx context.Context, t *table, parts int) ([]keyRange, error)
	// read sends the rows of r, in key order, one native-format line each
	// (ending in '\n') to emit, which must not keep the slice.
	read(ctx context.Context, t *table, r keyRange, emit func(line []byte) error) error
	// workers is how many reads may run at once.
	workers() int
	close() error
}

// tableName is a table as discovery found it.
type tableName struct {
	Schema, Name string
	View         bool
}

// column is one column of a table.
type column struct {
	Name string `json:"name"`
	// Type is the column's type as the database writes it (format_type,
	// COLUMN_TYPE).
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	// Default is the default expression, "" for none.
	Default string `json:"default,omitempty"`
	// Identity is "a" (ALWAYS) or "d" (BY DEFAULT) for identity columns,
	// "s" for serial columns (a default from an owned sequence).
	Identity string `json:"identity,omitempty"`
	// Generated is the expression of a stored generated column, which is
	// not in the data file.
	Generated string `json:"generated,omitempty"`
	// Collation is a text column's collation (SQL Server's format file).
	Collation string `json:"collation,omitempty"`
	// Read is the select-list expression when the column is not read as
	// itself (MySQL BIT); Load is what load.sql assigns from @var.
	Read string `json:"-"`
	Load string `json:"-"`
	// Charset is a MySQL character column's character set.
	Charset string `json:"-"`
}

// index is a secondary index, created after the data on load.
type index struct {
	Name   string `json:"name"`
	Unique bool   `json:"unique,omitempty"`
	// Def is the part of the definition after the table: "USING btree (a, b)".
	Def string `json:"def"`
}

// constraint is a CHECK ("c") or FOREIGN KEY ("f") constraint, added
// after the data on load.
type constraint struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Def is the definition as the database writes it: "CHECK (n > 0)",
	// "FOREIGN KEY (a) REFERENCES p(id)".
	Def string `json:"def"`
}

// table is what a snapshot knows of one table.
type table struct {
	tableName
	Constraints []constraint
	Columns     []column
	// Key holds the primary key's column positions in Columns (data
	// columns only), nil when the table has none.
	Key     []int
	Indexes []index
	// Rows is the server's estimate of the row count.
	Rows int64
	// ViewDef is a view's definition.
	ViewDef string
	// Snapshot is the exported snapshot id (PostgreSQL), for pg_dump.
	Snapshot string
	// OID is the table's pg_class oid (PostgreSQL): a change mark holds
	// for the same table only.
	OID uint32
}

// dataColumns returns the columns that are in the data file.
func (t *table) dataColumns() []column {
	var out []column
	for _, c := range t.Columns {
		if c.Generated == "" {
			out = append(out, c)
		}
	}
	return out
}

// keyRange is a part of a table's key space: rows with Lo <= key < Hi,
// by the key's text values; nil bounds are open.
type keyRange struct {
	Lo, Hi []string
	// sums, when set, takes each row's hash for its block (blocks.go);
	// block is the range's block when it is exactly one.
	sums  *blockSums
	block int
}
