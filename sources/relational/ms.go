package relational

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	// The SQL Server driver, registered as "sqlserver".
	_ "github.com/microsoft/go-mssqldb"
)

// msDialect is SQL Server: go-mssqldb, bcp character files with a
// non-XML format file (bcp.go). No SQL Server can run here: this dialect
// is exercised only by the tests that STRATA_SQLSERVER_DSN enables (see
// integration/sqlserver/README.md); its bcp writer and type mapping are
// unit-tested. Tables are read on one connection under SNAPSHOT
// isolation (a snapshot cannot be shared between connections), without
// parallel ranges; there is no loader yet (bcp in with the .fmt file
// loads a version).
type msDialect struct{}

func (msDialect) name() string                              { return KindSQLServer }
func (msDialect) ext() string                               { return "bcp" }
func (msDialect) diffExtras(*layout, string, string) []file { return nil }

// lineKey doubles positions: splitting a bcp row at tabs yields each
// field followed by the "|~|" between the terminator's two tabs.
func (msDialect) lineKey(key []int) []int {
	if key == nil {
		return nil
	}
	out := make([]int, len(key))
	for i, k := range key {
		out[i] = 2 * k
	}
	return out
}

// msRedacted names a server by host and database only.
func msRedacted(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		return "sqlserver://<redacted>"
	}
	return "sqlserver://" + u.Host + "/" + u.Query().Get("database")
}

func (msDialect) open(_ context.Context, dsn string, log *slog.Logger) (server, error) {
	db, err := sql.Open("sqlserver", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlserver %s: bad connection string: %s", msRedacted(dsn), scrub(err.Error(), dsn))
	}
	return &msServer{db: db, name: msRedacted(dsn), log: log}, nil
}

// msServer is a SQL Server instance.
type msServer struct {
	db   *sql.DB
	name string
	log  *slog.Logger
}

func (s *msServer) global() bool     { return false }
func (s *msServer) redacted() string { return s.name }
func (s *msServer) close() error     { return s.db.Close() }

func (s *msServer) databases(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM sys.databases WHERE database_id > 4 AND state = 0 ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// msIdent quotes names with brackets.
func msIdent(names ...string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = "[" + strings.ReplaceAll(n, "]", "]]") + "]"
	}
	return strings.Join(parts, ".")
}

func msSystemSchema(s string) bool {
	return s == "sys" || s == "INFORMATION_SCHEMA" || s == "guest" || strings.HasPrefix(s, "db_")
}

func (s *msServer) tables(ctx context.Context, db string, named []string) ([]tableName, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT s.name, o.name, o.type FROM "+msIdent(db)+".sys.objects o JOIN "+msIdent(db)+
		".sys.schemas s ON s.schema_id = o.schema_id WHERE o.type IN ('U', 'V') AND o.is_ms_shipped = 0 ORDER BY 1, 2")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tableName
	for rows.Next() {
		var t tableName
		var typ string
		if err := rows.Scan(&t.Schema, &t.Name, &typ); err != nil {
			return nil, err
		}
		t.View = strings.TrimSpace(typ) == "V"
		if !msSystemSchema(t.Schema) || isNamed(named, t.Schema, t.Name) {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}
