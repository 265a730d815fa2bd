package harness

import (
	"database/sql"
	"testing"
)

// TestMariaDBDriverRoundTrip writes and reads rows through
// go-sql-driver/mysql in a database of the test's own.
func TestMariaDBDriverRoundTrip(t *testing.T) {
	ctx := testContext(t)
	db, err := sql.Open("mysql", MariaDBDB(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })

	if _, err := db.ExecContext(ctx, `CREATE TABLE kv (k INT PRIMARY KEY, v BLOB NOT NULL) ENGINE=InnoDB`); err != nil {
		t.Fatalf("create table: %v", err)
	}
	want := map[int]string{1: "one", 2: "\x00\xff\x07"}
	for k, v := range want {
		if _, err := db.ExecContext(ctx, `INSERT INTO kv VALUES (?, ?)`, k, []byte(v)); err != nil {
			t.Fatalf("insert %d: %v", k, err)
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT k, v FROM kv ORDER BY k`)
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k int
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatalf("scan: %v", err)
		}
		if string(v) != want[k] {
			t.Fatalf("row %d = %x, want %x", k, v, want[k])
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read rows: %v", err)
	}
	if n != len(want) {
		t.Fatalf("got %d rows, want %d", n, len(want))
	}
}

// TestMariaDBBinlogIsOn checks the server keeps a row-based binary log,
// which incremental MySQL-family backups read.
func TestMariaDBBinlogIsOn(t *testing.T) {
	ctx := testContext(t)
	db, err := sql.Open("mysql", MariaDB(t))
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var logBin, format string
	if err := db.QueryRowContext(ctx, `SELECT @@log_bin, @@binlog_format`).Scan(&logBin, &format); err != nil {
		t.Fatalf("query: %v", err)
	}
	if logBin != "1" || format != "ROW" {
		t.Fatalf("log_bin=%s binlog_format=%s, want 1 and ROW", logBin, format)
	}
}
