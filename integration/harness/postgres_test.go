package harness

import (
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestPostgresDriverRoundTrip writes and reads rows through pgx in a
// database of the test's own.
func TestPostgresDriverRoundTrip(t *testing.T) {
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, PostgresDB(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })

	if _, err := conn.Exec(ctx, `CREATE TABLE kv (k int PRIMARY KEY, v bytea NOT NULL)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	want := map[int][]byte{1: []byte("one"), 2: {0, 255, 7}}
	for k, v := range want {
		if _, err := conn.Exec(ctx, `INSERT INTO kv VALUES ($1, $2)`, k, v); err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
	}
	rows, err := conn.Query(ctx, `SELECT k, v FROM kv ORDER BY k`)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
		K int
		V []byte
	}])
	if err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	for _, r := range got {
		if string(r.V) != string(want[r.K]) {
			t.Fatalf("row %d = %x, want %x", r.K, r.V, want[r.K])
		}
	}
}

// TestPostgresDSNReachesStrataDatabase checks the shared DSN logs in as
// the superuser role "strata".
func TestPostgresDSNReachesStrataDatabase(t *testing.T) {
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, Postgres(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	var user, db string
	var super bool
	err = conn.QueryRow(ctx, `SELECT current_user, current_database(), rolsuper
		FROM pg_roles WHERE rolname = current_user`).Scan(&user, &db, &super)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if user != "strata" || db != "strata" || !super {
		t.Fatalf("connected as %s to %s (superuser %v), want superuser strata to strata", user, db, super)
	}
}
