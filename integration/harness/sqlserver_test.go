package harness

import (
	"database/sql"
	"testing"

	// The SQL Server driver, registered as "sqlserver".
	_ "github.com/microsoft/go-mssqldb"
)

// TestSQLServerDriverRoundTrip writes and reads rows through go-mssqldb in
// a temporary table. It runs only against a server named by
// $STRATA_SQLSERVER_DSN (see integration/sqlserver/README.md).
func TestSQLServerDriverRoundTrip(t *testing.T) {
	ctx := testContext(t)
	db, err := sql.Open("sqlserver", SQLServerDSN(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	conn, err := db.Conn(ctx) // #temp tables live as long as one session
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	if _, err := conn.ExecContext(ctx, `CREATE TABLE #kv (k INT PRIMARY KEY, v VARBINARY(64) NOT NULL)`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	want := map[int]string{1: "one", 2: "\x00\xff\x07"}
	for k, v := range want {
		if _, err := conn.ExecContext(ctx, `INSERT INTO #kv VALUES (@p1, @p2)`, k, []byte(v)); err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
	}
	var n int
	var v []byte
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM #kv`).Scan(&n); err != nil || n != len(want) {
		t.Fatalf("count rows: %d, %v; want %d", n, err, len(want))
	}
	if err := conn.QueryRowContext(ctx, `SELECT v FROM #kv WHERE k = @p1`, 2).Scan(&v); err != nil {
		t.Fatalf("select: %v", err)
	}
	if string(v) != want[2] {
		t.Fatalf("row 2 = %x, want %x", v, want[2])
	}
}
