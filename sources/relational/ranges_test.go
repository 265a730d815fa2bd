package relational

import (
	"bytes"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// rangedMatchesWhole backs table up read in many key ranges and in one:
// the data files must be identical (no row lost or read twice, key order).
func rangedMatchesWhole(t *testing.T, d dialect, dsn, db, schema, table string, rows int) {
	t.Helper()
	var files [2][]byte
	for i, rangeRows := range []int64{int64(rows / 20), int64(rows * 10)} {
		src, err := newSource(d, Config{DSN: dsn, Cluster: "c", Databases: []string{db}, RangeRows: rangeRows})
		if err != nil {
			t.Fatal(err)
		}
		_, objs := discoverTables(t, d, dsn, db, schema, []sourcetest.Spec{{Name: table}})
		w, _ := backupTable(t, src, objs[0], nil)
		files[i] = w.Data(dataFileName(d, table))
		src.Close()
	}
	if n := bytes.Count(files[0], []byte("\n")); n != rows || !bytes.Equal(files[0], files[1]) {
		t.Fatalf("%s read in ranges: %d rows (want %d), identical to one read: %v", table, n, rows, bytes.Equal(files[0], files[1]))
	}
}

// TestPostgresRanges reads tables with an integer and a composite text
// key in about 20 ranges each.
func TestPostgresRanges(t *testing.T) {
	dsn := harness.PostgresDB(t)
	conn := pgConn(t, dsn)
	pgExec(t, conn, `CREATE TABLE n (id bigint PRIMARY KEY, v text);
		INSERT INTO n SELECT g, md5(g::text) FROM generate_series(1, 20000) g;
		CREATE TABLE c (a text, b int, v text, PRIMARY KEY (a, b));
		INSERT INTO c SELECT 'k' || (g % 97), g, md5(g::text) FROM generate_series(1, 20000) g;
		ANALYZE n; ANALYZE c`)
	rangedMatchesWhole(t, pgDialect{}, dsn, dbName(t, dsn), "public", "n", 20000)
	rangedMatchesWhole(t, pgDialect{}, dsn, dbName(t, dsn), "public", "c", 20000)
}

// TestMariaDBRanges reads an integer-keyed table in about 20 ranges.
func TestMariaDBRanges(t *testing.T) {
	dsn := harness.MariaDBDB(t)
	db := myDB(t, dsn)
	myExec(t, db, "CREATE TABLE n (id bigint PRIMARY KEY, v text)")
	myExec(t, db, "INSERT INTO n SELECT seq, MD5(seq) FROM seq_1_to_20000")
	myExec(t, db, "ANALYZE TABLE n")
	name := myDBName(t, dsn)
	rangedMatchesWhole(t, myDialect{}, dsn, name, name, "n", 20000)
}
