package relational

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// doubledVersion serves its data file twice over, so that the key fails
// to build: a load that fails at its last step.
type doubledVersion struct{ sources.VersionReader }

func (d doubledVersion) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	a, err := d.VersionReader.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	b, err := d.VersionReader.Open(ctx, path)
	if err != nil {
		a.Close()
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.MultiReader(a, b), multiCloser{a, b}}, nil
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	for _, c := range m {
		c.Close()
	}
	return nil
}

// TestPostgresStagedLoad loads a table of every type by three parallel
// COPYs in blocks smaller than some rows, over what a killed load left and
// with its sequence's name taken, and checks rows, indexes, constraints
// and the sequence; then a --drop
// load that fails at the key leaves the table it would have replaced as
// it was, and no staging schema.
func TestPostgresStagedLoad(t *testing.T) {
	ctx := context.Background()
	v, conn, dst, dstDSN := stagedKinds(t)

	stage := pgStagingSchema(pgIdent("public", "s_kinds"))
	pgExec(t, dst, "CREATE SCHEMA "+stage+"; CREATE TABLE "+stage+".s_kinds (left_by_a_killed_load int)")
	// The name CREATE TABLE would give s_kinds.id's sequence is taken: the
	// staged sequence is renamed as CREATE TABLE would have named it.
	pgExec(t, dst, "CREATE SEQUENCE s_kinds_id_seq")
	extra := sources.NewConfig()
	extra.Set(OptJobs, "3")
	opts := sources.LoadOptions{Database: dbName(t, dstDSN), Table: "s_kinds", Extra: extra}
	res, err := pgLoader{}.Load(ctx, dstDSN, v, opts)
	if err != nil {
		t.Fatalf("staged load: %v", err)
	}
	if st := res.Stats.(loadStats); st.Copies != 3 || !st.Created || st.Rows != 2000 {
		t.Fatalf("staged load: %+v, want 2000 rows by 3 COPYs into a new table", st)
	}
	want := pgRows(t, conn, "kinds", "id")
	sameRows(t, "s_kinds", pgRows(t, dst, "s_kinds", "id"), want)
	var n int
	var seq string
	if err := dst.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE schemaname = 'public' AND tablename = 's_kinds'").Scan(&n); err != nil || n != 3 {
		t.Errorf("s_kinds has %d indexes (%v), want 3", n, err)
	}
	if _, err := dst.Exec(ctx, "INSERT INTO s_kinds (i2) VALUES (-1)"); err == nil {
		t.Errorf("s_kinds accepted a row its CHECK constraint forbids")
	}
	if err := dst.QueryRow(ctx, "SELECT pg_get_serial_sequence('public.s_kinds', 'id')").Scan(&seq); err != nil || seq != "public.s_kinds_id_seq1" {
		t.Errorf("s_kinds.id's sequence is %q (%v), want public.s_kinds_id_seq1", seq, err)
	}
	pgExec(t, dst, "INSERT INTO s_kinds (t) VALUES ('after')") // the sequence is past the maximum
	pgExec(t, dst, "DELETE FROM s_kinds WHERE t = 'after'")
	noStaging(t, dst, "after the load")

	opts.Drop = true
	if _, err := (pgLoader{}).Load(ctx, dstDSN, doubledVersion{v}, opts); err == nil || !strings.Contains(err.Error(), "s_kinds") {
		t.Fatalf("a --drop load of every row twice: err %v, want the key's failure naming s_kinds", err)
	}
	sameRows(t, "s_kinds after a failed --drop load", pgRows(t, dst, "s_kinds", "id"), want)
	noStaging(t, dst, "after a failed load")
	if res, err = (pgLoader{}).Load(ctx, dstDSN, v, opts); err != nil || res.Stats.(loadStats).Copies != 3 {
		t.Fatalf("--drop load: %v %+v", err, res.Stats)
	}
	sameRows(t, "s_kinds after a --drop load", pgRows(t, dst, "s_kinds", "id"), want)
}

// stagedKinds backs up a table of every type (kinds) from a new
// database and returns its version, a connection to that database, a
// new target database and a connection to it, with every load of the
// test taking the staged path in blocks smaller than some rows.
func stagedKinds(t *testing.T) (v *sourcetest.Version, conn, dst *pgx.Conn, dstDSN string) {
	t.Helper()
	min, block := pgStagedMin, pgStageBlock
	t.Cleanup(func() { pgStagedMin, pgStageBlock = min, block })
	pgStagedMin, pgStageBlock = 0, 4096
	srcDSN, dstDSN := harness.PostgresDB(t), harness.PostgresDB(t)
	conn, dst = pgConn(t, srcDSN), pgConn(t, dstDSN)
	pgExec(t, conn, pgTypesDDL)
	pgExec(t, conn, pgTypesRows)
	src, objs := discoverTables(t, pgDialect{}, srcDSN, dbName(t, srcDSN), "public", []sourcetest.Spec{{Name: "kinds"}})
	defer src.Close()
	_, v = backupTable(t, src, objs[0], nil)
	return v, conn, dst, dstDSN
}

// noStaging fails when a staging schema is left in conn's database.
func noStaging(t *testing.T, conn *pgx.Conn, when string) {
	t.Helper()
	var left []string
	rows, err := conn.Query(context.Background(), "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'strata_load_%'")
	if err == nil {
		left, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(left) > 0 {
		t.Errorf("%s: staging schemas %v left (%v)", when, left, err)
	}
}

func TestSplitRows(t *testing.T) {
	long := strings.Repeat("x", 50)
	cases := []struct {
		name, in string
		size     int
	}{
		{"empty", "", 8},
		{"rows shorter than a block", "a\nbb\nccc\ndddd\n", 8},
		{"a row longer than a block", "a\n" + long + "\nb\n", 8},
		{"no newline at the end", "a\nbb\nccc", 4},
		{"one byte blocks", "ab\ncd\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := make(chan []byte, 100)
			if err := splitRows(context.Background(), strings.NewReader(c.in), c.size, out); err != nil {
				t.Fatal(err)
			}
			close(out)
			var all []byte
			for b := range out {
				if len(b) == 0 {
					t.Errorf("empty block")
				}
				if len(all) > 0 && all[len(all)-1] != '\n' {
					t.Errorf("a block after %q, which ends inside a row", all)
				}
				all = append(all, b...)
			}
			if string(all) != c.in {
				t.Errorf("blocks join to %q, want %q", all, c.in)
			}
		})
	}
}

// TestPostgresStagedLoadFallsBack: a user without CREATE on the database
// cannot make the staging schema; the load then takes the one-transaction
// path (one COPY) and gives the same rows.
func TestPostgresStagedLoadFallsBack(t *testing.T) {
	defer func(min int64) { pgStagedMin = min }(pgStagedMin)
	pgStagedMin = 0
	ctx := context.Background()
	srcDSN := harness.PostgresDB(t)
	conn := pgConn(t, srcDSN)
	role := pgx.Identifier{"r_" + dbName(t, srcDSN)}.Sanitize()
	pgExec(t, conn, "CREATE ROLE "+role+" LOGIN")
	// Registered before the target database's drop, so it runs after it
	// (the role owns the table loaded there).
	t.Cleanup(func() { pgExec(t, pgConn(t, srcDSN), "DROP ROLE IF EXISTS "+role) })
	dstDSN := harness.PostgresDB(t)
	dst := pgConn(t, dstDSN)
	pgExec(t, dst, "GRANT USAGE, CREATE ON SCHEMA public TO "+role)
	pgExec(t, conn, pgTypesDDL)
	pgExec(t, conn, pgTypesRows)
	src, objs := discoverTables(t, pgDialect{}, srcDSN, dbName(t, srcDSN), "public", []sourcetest.Spec{{Name: "kinds"}})
	defer src.Close()
	_, v := backupTable(t, src, objs[0], nil)

	userDSN := strings.Replace(dstDSN, "postgres://strata@", "postgres://"+strings.Trim(role, `"`)+"@", 1)
	res, err := pgLoader{}.Load(ctx, userDSN, v, sources.LoadOptions{Database: dbName(t, dstDSN), Table: "f_kinds", Extra: sources.NewConfig()})
	if err != nil {
		t.Fatalf("load as a user without CREATE on the database: %v", err)
	}
	if st := res.Stats.(loadStats); st.Copies != 0 || !st.Created || st.Rows != 2000 {
		t.Fatalf("load: %+v, want 2000 rows by one COPY into a new table", st)
	}
	sameRows(t, "f_kinds", pgRows(t, dst, "f_kinds", "id"), pgRows(t, conn, "kinds", "id"))
	noStaging(t, dst, "after the load")
}

// Two loads of one target at once take turns (the staging schema is
// named after the target, and without the lock each dropped the other's
// as a leftover), and a staging schema is never discovered as a table to
// back up.
func TestPostgresStagedLoadsTakeTurns(t *testing.T) {
	ctx := context.Background()
	v, conn, dst, dstDSN := stagedKinds(t)
	want := pgRows(t, conn, "kinds", "id")
	// With --drop each load replaces the table; without, the loads that
	// waited find it created and merge into it.
	for _, drop := range []bool{true, false} {
		opts := sources.LoadOptions{Database: dbName(t, dstDSN), Table: fmt.Sprintf("turns_%v", drop), Drop: drop}
		errs := make(chan error, 3)
		for range 3 {
			go func() { _, err := pgLoader{}.Load(ctx, dstDSN, v, opts); errs <- err }()
		}
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("one of three loads at once (drop %v): %v", drop, err)
			}
		}
		sameRows(t, opts.Table, pgRows(t, dst, opts.Table, "id"), want)
		noStaging(t, dst, "after three loads at once")
	}

	stage := pgStagingSchema(pgIdent("public", "turns"))
	pgExec(t, dst, "CREATE SCHEMA "+stage+"; CREATE TABLE "+stage+".turns (left_by_a_killed_load int)")
	pgExec(t, dst, "CREATE SCHEMA strata_load_archive; CREATE TABLE strata_load_archive.kept (id int PRIMARY KEY)")
	dsrc, found := discoverAll(t, pgDialect{}, dstDSN, dbName(t, dstDSN))
	defer dsrc.Close()
	for _, o := range found {
		if o.Meta["schema"] == stage {
			t.Errorf("discovered %s, a staging schema's table", o.Table)
		}
	}
	if len(found) != 3 {
		t.Errorf("discovered %d tables, want turns_true, turns_false and strata_load_archive.kept: %v", len(found), found)
	}
}

func TestPgIsStagingSchema(t *testing.T) {
	for s, want := range map[string]bool{
		pgStagingSchema(`"public"."t"`): true,
		"strata_load_0123456789ab":      true,
		"strata_load_archive":           false,
		"strata_load_0123456789AB":      false,
		"strata_load_0123456789abc":     false,
		"strata_load_":                  false,
		"public":                        false,
	} {
		if got := pgIsStagingSchema(s); got != want {
			t.Errorf("pgIsStagingSchema(%q) = %v, want %v", s, got, want)
		}
	}
}
