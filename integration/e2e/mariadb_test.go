package e2e

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/stratabackup/strata/integration/harness"
)

// TestMariaDB drives the mysql source through the CLI: a 500,000-row
// table (generated server-side from the seq engine), a small keyed table
// and a table without a primary key, backed up in one run; the stock
// client (mariadb) runs schema.sql and load.sql (LOAD DATA LOCAL INFILE
// of the .tsv) from the version directory on the mount into a fresh
// database, and strata restore loads the big table renamed; a restore
// rerun (on the small tables, for time: keyed and unkeyed) changes
// nothing; every row is compared with the source.
func TestMariaDB(t *testing.T) {
	dsn, fresh, restored := harness.MariaDBDB(t), harness.MariaDBDB(t), harness.MariaDBDB(t)
	src := myConn(t, dsn)
	db := myName(t, dsn)
	filled := time.Now()
	for _, q := range []string{
		`CREATE TABLE big (id bigint PRIMARY KEY, v varchar(80), n int, b blob, at datetime(6))`,
		`INSERT INTO big SELECT seq, CONCAT('row ', seq, '\t', MD5(seq)), seq % 1000, IF(seq % 10 = 0, NULL, UNHEX(MD5(seq))),
			'2026-01-01' + INTERVAL seq SECOND FROM seq_1_to_500000`,
		`CREATE TABLE small (id int PRIMARY KEY, v varchar(20))`,
		`INSERT INTO small SELECT seq, IF(seq % 7 = 0, NULL, CONCAT('s', seq)) FROM seq_1_to_1000`,
		`CREATE TABLE nokey (a int, b varchar(10))`,
		`INSERT INTO nokey SELECT seq % 100, IF(seq % 3 = 0, NULL, '') FROM seq_1_to_5000`,
	} {
		if _, err := src.Exec(q); err != nil {
			t.Fatalf("%.100s: %v", q, err)
		}
	}
	t.Logf("source filled in %v", time.Since(filled))
	t.Setenv("STRATA_MYSQL_DSN", dsn)
	e := newEnv(t)
	start := time.Now()
	e.ok("backup", "mysql", "--cluster", "my", "--only", db)
	t.Logf("backup took %v", time.Since(start))
	mp := e.mount()
	t.Logf("mounted after %v", time.Since(start))
	for _, table := range []string{"big", "small", "nokey"} {
		dir := filepath.Join(mp, "my", db, db+"."+table, "latest")
		mariadbClient(t, fresh, dir, "schema.sql")
		mariadbClient(t, fresh, dir, "load.sql")
		order := map[string]string{"big": "id", "small": "id", "nokey": "a, b"}[table]
		sameText(t, table+" loaded by mariadb from the mount", myChecksum(t, myConn(t, fresh), table, order), myChecksum(t, src, table, order))
	}
	t.Logf("loaded from the mount after %v", time.Since(start))
	e.ok("restore", "--to-mysql", restored, "--db", myName(t, restored), "--table", "big2", "my/"+db+"/"+db+".big/latest")
	sameText(t, "restored big2", myChecksum(t, myConn(t, restored), "big2", "id"), myChecksum(t, src, "big", "id"))
	t.Logf("restored after %v", time.Since(start))
	for _, tb := range []struct{ table, order string }{{"small", "id"}, {"nokey", "a, b"}} {
		for run := 0; run < 2; run++ {
			e.ok("restore", "--to-mysql", restored, "--db", myName(t, restored), "--table", tb.table+"2", "my/"+db+"/"+db+"."+tb.table+"/latest")
		}
		sameText(t, "restored twice "+tb.table, myChecksum(t, myConn(t, restored), tb.table+"2", tb.order), myChecksum(t, src, tb.table, tb.order))
	}
	t.Logf("reruns after %v", time.Since(start))
}

func myConn(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func myName(t *testing.T, dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.DBName
}

// myChecksum is the row count and an MD5 over every row, all columns
// (NULL kept apart from ”), in order, computed by the server.
func myChecksum(t *testing.T, db *sql.DB, table, order string) []string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM `" + table + "` LIMIT 0")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	rows.Close()
	expr := "CONCAT_WS('|'"
	for _, c := range cols {
		expr += ", IFNULL(HEX(`" + c + "`), 'NULL')"
	}
	expr += ")"
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "SET SESSION group_concat_max_len = 1 << 30"); err != nil {
		t.Fatal(err)
	}
	var n, sum string
	q := "SELECT COUNT(*), MD5(GROUP_CONCAT(" + expr + " ORDER BY " + order + " SEPARATOR '\\n')) FROM `" + table + "`"
	if err := conn.QueryRowContext(t.Context(), q).Scan(&n, &sum); err != nil {
		t.Fatal(err)
	}
	return []string{"rows " + n, "md5 " + sum}
}

// mariadbClient runs a version's SQL file with the stock client in the
// version directory, so load.sql's LOAD DATA LOCAL INFILE finds the .tsv.
func mariadbClient(t *testing.T, dsn, dir, file string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	host, port := "127.0.0.1", "53306"
	cmd := exec.Command("mariadb", "--no-defaults", "--local-infile=1", "-h", host, "-P", port, "-u", cfg.User, cfg.DBName, "-e", "source "+file)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "MYSQL_PWD="+cfg.Passwd)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mariadb -e 'source %s' in %s: %v\n%s", file, dir, err, out)
	}
}
