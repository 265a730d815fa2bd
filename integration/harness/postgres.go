package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresDSN is the test PostgreSQL cluster started by
// integration/postgres/up.sh: 127.0.0.1:55432, trust auth, role "strata"
// (a superuser, so tests may create databases and roles).
const PostgresDSN = "postgres://strata@127.0.0.1:55432/strata?sslmode=disable"

// Postgres starts the test PostgreSQL cluster if needed and returns the DSN
// of its "strata" database.
func Postgres(t testing.TB) (dsn string) {
	t.Helper()
	Require(t, "postgres")
	return PostgresDSN
}

// PostgresDB starts the cluster if needed, creates a database of its own for
// this test (dropped when the test ends) and returns its DSN, so tests that
// back up "a whole database" do not see each other's tables.
func PostgresDB(t testing.TB) (dsn string) {
	t.Helper()
	Require(t, "postgres")
	name := UniqueName(t)
	pgAdmin(t, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		pgAdmin(t, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	})
	return fmt.Sprintf("postgres://strata@127.0.0.1:55432/%s?sslmode=disable", name)
}

// pgAdmin runs one statement on the "strata" database.
func pgAdmin(t testing.TB, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, PostgresDSN)
	if err != nil {
		t.Fatalf("connect to postgres %s: %v", PostgresDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("postgres %s: %v", sql, err)
	}
}
