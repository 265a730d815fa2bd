package harness

import (
	"context"
	"database/sql"
	"testing"
	"time"

	// The MySQL driver the project uses, registered as "mysql".
	_ "github.com/go-sql-driver/mysql"
)

// MariaDBDSN is the test MariaDB server started by
// integration/mariadb/up.sh: 127.0.0.1:53306, user strata/strata with all
// privileges, database "strata". The form is go-sql-driver/mysql's.
const MariaDBDSN = "strata:strata@tcp(127.0.0.1:53306)/strata"

// MariaDB starts the test MariaDB server if needed and returns the DSN of
// its "strata" database.
func MariaDB(t testing.TB) (dsn string) {
	t.Helper()
	Require(t, "mariadb")
	return MariaDBDSN
}

// MariaDBDB starts the server if needed, creates a database of its own for
// this test (dropped when the test ends) and returns its DSN.
func MariaDBDB(t testing.TB) (dsn string) {
	t.Helper()
	Require(t, "mariadb")
	name := UniqueName(t)
	myAdmin(t, "CREATE DATABASE `"+name+"`")
	t.Cleanup(func() { myAdmin(t, "DROP DATABASE IF EXISTS `"+name+"`") })
	return "strata:strata@tcp(127.0.0.1:53306)/" + name
}

// myAdmin runs one statement on the "strata" database.
func myAdmin(t testing.TB, stmt string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", MariaDBDSN)
	if err != nil {
		t.Fatalf("open mariadb %s: %v", MariaDBDSN, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("mariadb %s: %v", stmt, err)
	}
}
