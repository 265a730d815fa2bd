package relational

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// pgConn connects to dsn for the test's own statements.
func pgConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgExec(t *testing.T, conn *pgx.Conn, sql string, args ...any) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// dbName is the database a harness DSN names.
func dbName(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// TestPostgresConformance runs the sources suite against PostgreSQL: one
// table (key bytea primary key, data bytea) per object in a fresh
// database, one row per item.
func TestPostgresConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Setup: func(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
			dsn := harness.PostgresDB(t)
			conn := pgConn(t, dsn)
			for _, spec := range specs {
				id := pgx.Identifier{spec.Name}.Sanitize()
				pgExec(t, conn, "CREATE TABLE "+id+" (k bytea PRIMARY KEY, data bytea)")
				rows := make([][]any, len(spec.Items))
				for i, it := range spec.Items {
					rows[i] = []any{[]byte(it.Name), it.Data}
				}
				if _, err := conn.CopyFrom(context.Background(), pgx.Identifier{spec.Name}, []string{"k", "data"}, pgx.CopyFromRows(rows)); err != nil {
					t.Fatalf("fill %q: %v", spec.Name, err)
				}
			}
			return discoverTables(t, pgDialect{}, dsn, dbName(t, dsn), "public", specs)
		},
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			dsn := "postgres://strata@127.0.0.1:55432/" + obj.Meta["database"] + "?sslmode=disable"
			conn := pgConn(t, dsn)
			pgExec(t, conn, "UPDATE "+pgIdent(obj.Meta["schema"], obj.Meta["table"])+" SET data = $1 WHERE k = $2", item.Data, []byte(item.Name))
		},
		NameOK: func(name string) bool {
			return utf8.ValidString(name) && !strings.Contains(name, "\x00") && len(name) <= 63
		},
		Reuses: true,
	})
}

// discoverTables builds a source over db and finds the specs' tables.
func discoverTables(t *testing.T, d dialect, dsn, db, schema string, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	src, found := discoverAll(t, d, dsn, db)
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		for _, o := range found {
			if o.Meta["schema"] == schema && o.Meta["table"] == spec.Name {
				objs[i] = o
			}
		}
		if objs[i].Table == "" {
			t.Fatalf("table %q not discovered: %v", spec.Name, found)
		}
	}
	return src, objs
}

// discoverAll returns a source on database db of dsn and every object it
// discovers.
func discoverAll(t *testing.T, d dialect, dsn, db string) (sources.Source, []sources.Object) {
	t.Helper()
	src, err := newSource(d, Config{DSN: dsn, Cluster: "st", Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	found, err := src.Discover(context.Background())
	if err != nil {
		src.Close()
		t.Fatal(err)
	}
	return src, found
}
