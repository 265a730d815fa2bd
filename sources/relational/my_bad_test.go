package relational

import (
	"context"
	"strings"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestMariaDBWithoutReload backs up as a user without the RELOAD
// privilege: FLUSH TABLES WITH READ LOCK is refused, so the run reads on
// one connection and the version says so and what to grant.
func TestMariaDBWithoutReload(t *testing.T) {
	dsn := harness.MariaDBDB(t)
	db := myDBName(t, dsn)
	admin := myDB(t, dsn)
	user := "lim_" + db[len(db)-8:]
	myExec(t, admin, "CREATE TABLE t (id int PRIMARY KEY, v text)")
	myExec(t, admin, "INSERT INTO t VALUES (1, 'a'), (2, NULL)")
	myExec(t, admin, "CREATE USER '"+user+"'@'%' IDENTIFIED BY 'pw'")
	t.Cleanup(func() { _, _ = admin.Exec("DROP USER '" + user + "'@'%'") })
	myExec(t, admin, "GRANT SELECT, SHOW VIEW ON `"+db+"`.* TO '"+user+"'@'%'")
	limited := user + ":pw@tcp(127.0.0.1:53306)/" + db
	s, objs := discoverTables(t, myDialect{}, limited, db, db, []sourcetest.Spec{{Name: "t"}})
	defer s.Close()
	w, v := backupTable(t, s, objs[0], nil)
	if got := string(w.Data("t.tsv")); got != "1\ta\n2\t\\N\n" {
		t.Errorf("t.tsv = %q", got)
	}
	res, err := s.Backup(context.Background(), objs[0], sources.NoPrevious{}, sourcetest.NewWriter(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) == 0 || !strings.Contains(res.Warnings[0], "grant RELOAD") {
		t.Errorf("warnings %q, want one saying to grant RELOAD", res.Warnings)
	}
	if c := v.Info().Meta["consistency"]; !strings.Contains(c, "no global read lock") {
		t.Errorf("consistency %q, want it to say there was no global read lock", c)
	}
}
