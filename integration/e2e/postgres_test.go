package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// TestPostgres drives the postgres source through the CLI: a database
// with a 500,000-row table, a table without a primary key and two
// account tables that a writer keeps transferring between while the
// backup runs. psql loads schema.sql and \copy's the .copy files straight
// from the mount into a fresh database; strata restore loads a renamed
// table (small ones twice); a second backup after 5% updates adds at most 10% of the
// first's bytes, and the @diff over the first version gives the second.
func TestPostgres(t *testing.T) {
	ctx := context.Background()
	t0 := time.Now()
	step := func(what string) { t.Logf("%v: %s", time.Since(t0).Round(time.Millisecond), what) }
	dsn, fresh, restored := harness.PostgresDB(t), harness.PostgresDB(t), harness.PostgresDB(t)
	src := pgxConn(t, dsn)
	db := pgDBName(t, dsn)
	pgRun(t, src, `CREATE TABLE big (id bigint PRIMARY KEY, v text, n integer, at timestamptz);
		INSERT INTO big SELECT s, 'row ' || s || ' ' || md5(s::text) || substr(md5((s * 7)::text), 1, s % 32), s % 1000, TIMESTAMPTZ '2026-01-01' + s * interval '1 second'
			FROM generate_series(1, 500000) s;
		CREATE INDEX big_n ON big (n);
		CREATE TABLE nokey (a integer, b text);
		INSERT INTO nokey SELECT s % 100, CASE WHEN s % 3 = 0 THEN NULL ELSE '' END FROM generate_series(1, 5000) s;
		CREATE TABLE acct_a (id int PRIMARY KEY, balance bigint);
		CREATE TABLE acct_b (id int PRIMARY KEY, balance bigint);
		INSERT INTO acct_a SELECT s, 1000 FROM generate_series(1, 100) s;
		INSERT INTO acct_b SELECT s, 1000 FROM generate_series(1, 100) s;
		ANALYZE`)
	step("source filled")
	t.Setenv("STRATA_POSTGRES_DSN", dsn)
	e := newEnv(t)

	// Transfers between the account tables while the first backup runs.
	stop, transfers := make(chan struct{}), atomic.Int64{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w := pgxConn(t, dsn)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id := 1 + i%100
			err := pgx.BeginFunc(ctx, w, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, "UPDATE acct_a SET balance = balance - 7 WHERE id = $1", id); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, "UPDATE acct_b SET balance = balance + 7 WHERE id = $1", id)
				return err
			})
			if err != nil {
				t.Errorf("transfer: %v", err)
				return
			}
			transfers.Add(1)
		}
	}()
	before := storeBytes(t, e.store)
	start := time.Now()
	e.ok("backup", "postgres", "--cluster", "pg", "--only", db, "--workers", "2")
	t.Logf("first backup took %v", time.Since(start))
	first := storeBytes(t, e.store) - before
	close(stop)
	wg.Wait()
	t.Logf("first backup stored %d bytes; %d transfers committed meanwhile", first, transfers.Load())

	mp := e.mount()
	step("mounted")
	vdir := func(table string) string { return filepath.Join(mp, "pg", db, "public."+table, "latest") }
	psqlLoad(t, fresh, vdir("big"), "big")
	psqlLoad(t, fresh, vdir("nokey"), "nokey")
	psqlLoad(t, fresh, vdir("acct_a"), "acct_a")
	psqlLoad(t, fresh, vdir("acct_b"), "acct_b")
	dst := pgxConn(t, fresh)
	sameText(t, "big loaded by psql from the mount", pgText(t, dst, "big", "id"), pgText(t, src, "big", "id"))
	sameText(t, "nokey loaded by psql from the mount", pgText(t, dst, "nokey", "a, b"), pgText(t, src, "nokey", "a, b"))
	var total int64
	if err := dst.QueryRow(ctx, "SELECT (SELECT sum(balance) FROM acct_a) + (SELECT sum(balance) FROM acct_b)").Scan(&total); err != nil {
		t.Fatal(err)
	}
	if total != 200000 {
		t.Fatalf("the backup's accounts sum to %d, want 200000: a transfer was seen in one table only", total)
	}

	step("loaded by psql and compared")
	// strata restore into another database, renamed, twice.
	rdb := pgDBName(t, restored)
	e.ok("restore", "--to-postgres", restored, "--db", rdb, "--table", "big2", "pg/"+db+"/public.big/latest")
	sameText(t, "restored big2", pgText(t, pgxConn(t, restored), "big2", "id"), pgText(t, src, "big", "id"))
	step("restored")
	// A rerun changes nothing: on a keyed table (upsert) and on one
	// without a key (replaced whole); kept to small tables for time.
	for _, tb := range []struct{ table, order string }{{"acct_a", "id"}, {"nokey", "a, b"}} {
		for run := 0; run < 2; run++ {
			e.ok("restore", "--to-postgres", restored, "--db", rdb, "--table", tb.table+"2", "pg/"+db+"/public."+tb.table+"/latest")
		}
		sameText(t, "restored twice "+tb.table, pgText(t, pgxConn(t, restored), tb.table+"2", tb.order), pgText(t, dst, tb.table, tb.order))
	}
	step("reruns")

	// 5% updates, a second backup, and the @diff over the first version.
	pgRun(t, src, `UPDATE big SET v = 'changed ' || id WHERE id % 20 = 0; DELETE FROM big WHERE id % 1001 = 0;
		INSERT INTO big VALUES (600001, 'new', 1, now())`)
	step("updated")
	time.Sleep(time.Second)
	before = storeBytes(t, e.store)
	e.ok("backup", "postgres", "--cluster", "pg", "--only", db+"/public.big")
	second := storeBytes(t, e.store) - before
	t.Logf("second backup after 5%% updates added %d bytes (%.1f%% of the first's %d)", second, 100*float64(second)/float64(first), first)
	if second*10 > first {
		t.Errorf("second backup added %d bytes, more than 10%% of the first's %d", second, first)
	}
	step("second backup")
	var times []string
	for _, v := range e.versions() {
		if v.Object.Database == db && v.Object.Table == "public.big" {
			times = append(times, index.TimeName(v.Time))
		}
	}
	if len(times) != 2 {
		t.Fatalf("public.big has versions %v, want 2", times)
	}
	e.ok("restore", "--to-postgres", restored, "--db", rdb, "--table", "big2", "pg/"+db+"/public.big/"+times[0]+".."+times[1])
	sameText(t, "first version + @diff", pgText(t, pgxConn(t, restored), "big2", "id"), pgText(t, src, "big", "id"))
}

func pgxConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func pgRun(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	if _, err := c.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%.200s: %v", sql, err)
	}
}

func pgDBName(t *testing.T, dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// pgText returns the row count and an MD5 of every row of table as
// text (all columns), in order, computed by the server.
func pgText(t *testing.T, c *pgx.Conn, table, order string) []string {
	t.Helper()
	var n, sum string
	err := c.QueryRow(context.Background(), "SELECT count(*)::text, coalesce(md5(string_agg(x::text, E'\\n' ORDER BY "+order+")), '') FROM "+table+" x").Scan(&n, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return []string{"rows " + n, "md5 " + sum}
}

func sameText(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: row %d is %.200s, want %.200s", what, i, got[i], want[i])
		}
	}
}

// psqlLoad runs the stock client on a version directory: schema.sql, then
// \copy of the table's .copy file, both read from the mount.
func psqlLoad(t *testing.T, dsn, dir, table string) {
	t.Helper()
	for _, args := range [][]string{
		{"-f", filepath.Join(dir, "schema.sql")},
		{"-c", `\copy public.` + table + ` from '` + filepath.Join(dir, table+".copy") + `'`},
	} {
		cmd := exec.Command("psql", append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn}, args...)...)
		cmd.Env = os.Environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("psql %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
