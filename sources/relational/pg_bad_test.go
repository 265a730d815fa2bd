package relational

import (
	"context"
	"strings"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestPostgresBadInput checks the errors people meet: an unreachable
// server (named, without its password), a table dropped since discovery
// (named), and that a view is discovered and backed up as its definition.
func TestPostgresBadInput(t *testing.T) {
	ctx := context.Background()
	src, err := newSource(pgDialect{}, Config{DSN: "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", Cluster: "c"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.Discover(ctx)
	if err == nil || !strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable server: error %v, want one naming 127.0.0.1 without the password", err)
	}
	dsn := harness.PostgresDB(t)
	conn := pgConn(t, dsn)
	pgExec(t, conn, "CREATE TABLE gone (id int PRIMARY KEY); CREATE TABLE base (id int PRIMARY KEY, v text); CREATE VIEW v AS SELECT id FROM base WHERE id > 1")
	s, objs := discoverTables(t, pgDialect{}, dsn, dbName(t, dsn), "public", []sourcetest.Spec{{Name: "gone"}, {Name: "v"}})
	defer s.Close()
	if objs[1].Meta["type"] != "view" {
		t.Errorf("view discovered as %v", objs[1].Meta)
	}
	w, v := backupTable(t, s, objs[1], nil)
	if !strings.Contains(string(w.Data("schema.sql")), "CREATE VIEW") || len(w.Paths()) != 1 {
		t.Errorf("view version holds %v, schema.sql %q", w.Paths(), w.Data("schema.sql"))
	}
	if err := (Differ{d: pgDialect{}}).Diff(ctx, v, v, sourcetest.NewWriter(nil)); err != nil {
		t.Errorf("diff of a view: %v", err)
	}
	pgExec(t, conn, "DROP TABLE gone")
	_, err = s.Backup(ctx, objs[0], sources.NoPrevious{}, sourcetest.NewWriter(nil))
	if err == nil || !strings.Contains(err.Error(), `"gone"`) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("backup of a dropped table: %v, want an error naming it", err)
	}
}
