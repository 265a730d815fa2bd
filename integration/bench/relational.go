package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// The relational part (-sql-size, -sql-only): strata's backup and restore
// of one generated PostgreSQL table side by side with pg_dump -Fd -j 2 and
// pg_restore -j 2, against the harness's server
// (integration/servers.sh up postgres).
const (
	sqlDB       = "strata_bench_sql"
	sqlStrataDB = "strata_bench_sql_r"
	sqlPeerDB   = "strata_bench_sql_p"
	sqlRowBytes = 160 // about what a generated row takes in the table
)

// sqlBench holds the figures of the relational part.
type sqlBench struct {
	cfg    config
	header string // the report's title
	dir    string
	bin    string
	rows   int64
	bytes  int64 // the table's size on the server (pg_table_size)
	took   map[string]time.Duration
	errs   map[string]error
	store  map[string]int64 // step -> store bytes after it
	// running is the step under way: its strata commands write a CPU
	// profile to $STRATA_BENCH_PROFILE/sql-<step>.prof when that is set.
	running string
}

// runSQL runs the relational part alone: PostgreSQL, then MariaDB, each
// printing its table.
func runSQL(ctx context.Context, cfg config) error {
	dir := filepath.Join(cfg.cache, "run-sql")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bin, err := buildStrata(ctx, cfg.repoRoot, dir)
	if err != nil {
		return err
	}
	for _, kind := range strings.Split(cfg.sqlKinds, ",") {
		switch kind {
		case "postgres":
			err = runPG(ctx, cfg, bin, filepath.Join(dir, "postgres"))
		case "mariadb":
			err = runMy(ctx, cfg, bin, dir)
		default:
			err = fmt.Errorf("-sql-kinds: unknown %q (postgres, mariadb)", kind)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// runPG runs the PostgreSQL side and prints its table.
func runPG(ctx context.Context, cfg config, bin, dir string) error {
	s := &sqlBench{cfg: cfg, dir: dir, bin: bin, took: map[string]time.Duration{},
		errs: map[string]error{}, store: map[string]int64{}}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	if err := s.ensureTable(ctx); err != nil {
		return err
	}
	if err := runCmd(s.strata(ctx, "init")); err != nil {
		return err
	}
	s.step("backup1", func() error {
		return runCmd(s.strata(ctx, "backup", "postgres", "--cluster", "b", "--only", sqlDB+"/public.bench"))
	})
	s.step("restore", func() error {
		return runCmd(s.strata(ctx, "restore", "--to-postgres", s.dsn(""), "--db", sqlStrataDB, "--drop", "b/"+sqlDB+"/public.bench/latest"))
	})
	s.step("dump1", func() error { return s.pgDump(ctx, "dump1") })
	s.step("load", func() error { return s.pgRestore(ctx) })
	if err := s.update(ctx); err != nil {
		return err
	}
	s.step("backup2", func() error {
		return runCmd(s.strata(ctx, "backup", "postgres", "--cluster", "b", "--only", sqlDB+"/public.bench"))
	})
	s.step("dump2", func() error { return s.pgDump(ctx, "dump2") })
	s.report(os.Stdout)
	return nil
}

func (s *sqlBench) dsn(db string) string {
	u := strings.TrimSuffix(s.cfg.sqlURI, "/")
	if db == "" {
		return u + "/strata?sslmode=disable"
	}
	return u + "/" + db + "?sslmode=disable"
}

func (s *sqlBench) strata(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, s.bin, append([]string{"--store", filepath.Join(s.dir, "store"), "--cache-dir", filepath.Join(s.dir, "cache"), "--quiet"}, args...)...)
	cmd.Env = append(os.Environ(), "STRATA_POSTGRES_DSN="+s.dsn(sqlDB), "STRATA_MYSQL_DSN="+s.myDSN(myDB))
	if dir := os.Getenv("STRATA_BENCH_PROFILE"); dir != "" && s.running != "" {
		cmd.Env = append(cmd.Env, "STRATA_CPUPROFILE="+filepath.Join(dir, "sql-"+s.running+".prof"))
	}
	return cmd
}

// step times f after dropping the page cache, and records the store's size.
func (s *sqlBench) step(name string, f func() error) {
	dropCaches()
	logf("sql %s", name)
	s.running = name
	d, err := timed(f)
	s.running = ""
	s.took[name], s.errs[name] = d, err
	if err != nil {
		logf("sql %s: %v", name, err)
	}
	if _, peer := s.store[name]; !peer {
		if n, err := diskUsage(filepath.Join(s.dir, "store")); err == nil {
			s.store[name] = n
		}
	}
	logf("sql %s: %s", name, d.Round(time.Millisecond))
}

// ensureTable creates the bench table of about -sql-size bytes, or reuses it.
func (s *sqlBench) ensureTable(ctx context.Context) error {
	admin, err := pgx.Connect(ctx, s.dsn(""))
	if err != nil {
		return fmt.Errorf("connect to the bench PostgreSQL (integration/servers.sh up postgres): %w", err)
	}
	defer admin.Close(ctx)
	for _, db := range []string{sqlStrataDB, sqlPeerDB} {
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			return err
		}
	}
	_, _ = admin.Exec(ctx, "CREATE DATABASE "+sqlDB)
	conn, err := pgx.Connect(ctx, s.dsn(sqlDB))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	want := s.cfg.sqlSize / sqlRowBytes
	_ = conn.QueryRow(ctx, "SELECT count(*) FROM bench").Scan(&s.rows)
	if s.rows != want {
		logf("sql: generating %d rows", want)
		_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS bench;
			CREATE TABLE bench (id bigint PRIMARY KEY, v text, n integer, at timestamptz, rev integer)`)
		if err == nil {
			_, err = conn.Exec(ctx, `INSERT INTO bench SELECT s, md5(s::text) || ' ' || md5((s * 31)::text) || ' ' || md5((s * 7)::text),
				s % 1000, TIMESTAMPTZ '2026-01-01' + s * interval '1 second', 0 FROM generate_series(1, $1::bigint) s`, want)
		}
		if err == nil {
			_, err = conn.Exec(ctx, "VACUUM ANALYZE bench")
		}
		if err != nil {
			return fmt.Errorf("generate the bench table: %w", err)
		}
	} else {
		// Two statements: VACUUM cannot run in the implicit transaction
		// of a multi-statement string.
		if _, err = conn.Exec(ctx, "UPDATE bench SET rev = 0, v = lower(v) WHERE rev <> 0"); err == nil {
			_, err = conn.Exec(ctx, "VACUUM ANALYZE bench")
		}
	}
	s.rows = want
	if err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_table_size('bench')").Scan(&s.bytes)
	}
	return err
}

// update changes 5% of the rows.
func (s *sqlBench) update(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.dsn(sqlDB))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "UPDATE bench SET rev = 1, v = upper(v) WHERE id % 20 = 0")
	time.Sleep(time.Second) // a new version second
	return err
}

// pgEnv is the environment that points libpq's tools at dsn's server
// and db: connection settings never go on a command line.
func pgEnv(dsn, db string) ([]string, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return append(os.Environ(), "PGHOST="+cfg.Host, fmt.Sprintf("PGPORT=%d", cfg.Port), "PGUSER="+cfg.User,
		"PGPASSWORD="+cfg.Password, "PGDATABASE="+db, "PGSSLMODE=disable"), nil
}

// pgDump is the peer's backup: pg_dump -Fd -j 2 of the table.
func (s *sqlBench) pgDump(ctx context.Context, name string) error {
	out := filepath.Join(s.dir, name)
	env, err := pgEnv(s.dsn(""), sqlDB)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "pg_dump", "-Fd", "-j", "2", "-t", "public.bench", "-f", out)
	cmd.Env = env
	if err := runCmd(cmd); err != nil {
		return err
	}
	n, err := diskUsage(out)
	s.store[name] = n
	if name != peerLoadDump {
		_ = os.RemoveAll(out) // measured; only the first is restored
	}
	return err
}

// peerLoadDump is the dump the peer's restore loads; the others are
// removed once measured (three dumps of a 1 GiB table filled this
// machine's disk once).
const peerLoadDump = "dump1"

// pgRestore is the peer's restore: pg_restore -j 2 into a new database.
func (s *sqlBench) pgRestore(ctx context.Context) error {
	env, err := pgEnv(s.dsn(""), "postgres")
	if err != nil {
		return err
	}
	create := exec.CommandContext(ctx, "createdb", sqlPeerDB)
	create.Env = env
	if err := runCmd(create); err != nil {
		return err
	}
	dump := filepath.Join(s.dir, peerLoadDump)
	defer os.RemoveAll(dump)
	cmd := exec.CommandContext(ctx, "pg_restore", "-j", "2", "-d", sqlPeerDB, dump)
	cmd.Env = env
	return runCmd(cmd)
}

// report prints rows/s and MB/s (of the table's size on the server) for
// each side and the ratios against the targets.
func (s *sqlBench) report(out io.Writer) {
	if s.header == "" {
		s.header = "PostgreSQL: strata vs pg_dump -Fd -j 2 / pg_restore -j 2"
	}
	fmt.Fprintf(out, "\n%s; one table of %d rows, %s on the server\n\n", s.header, s.rows, human(float64(s.bytes)))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tstrata\tpeer\tstrata/peer\ttarget")
	rate := func(step string) (string, float64) {
		if s.errs[step] != nil || s.took[step] == 0 {
			return "failed", 0
		}
		sec := s.took[step].Seconds()
		return fmt.Sprintf("%.0f rows/s, %.1f MB/s", float64(s.rows)/sec, float64(s.bytes)/sec/1e6), 1 / sec
	}
	for _, r := range [][3]string{{"backup", "backup1", "dump1"}, {"second backup (5% updated; peer dumps again)", "backup2", "dump2"},
		{"third backup (5% more, in one key range)", "backup3", "dump3"}, {"restore", "restore", "load"}} {
		if _, ran := s.took[r[1]]; !ran {
			continue
		}
		st, sv := rate(r[1])
		pt, pv := rate(r[2])
		ratio := ""
		if sv > 0 && pv > 0 {
			ratio = ratioText(sv / pv)
		}
		target := map[string]string{"backup1": ">= 2x", "backup2": ">= 10x", "backup3": ">= 10x", "restore": ">= 1x"}[r[1]]
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r[0], st, pt, ratio, target)
	}
	fmt.Fprintf(w, "stored after first backup (peer: its dump)\t%s\t%s\t\t\n", human(float64(s.store["backup1"])), human(float64(s.store["dump1"])))
	added := s.store["backup2"] - s.store["load"]
	fmt.Fprintf(w, "second backup adds to the store (peer: a whole dump)\t%s\t%s\t\t\n", human(float64(added)), human(float64(s.store["dump2"])))
	if _, ran := s.took["backup3"]; ran {
		fmt.Fprintf(w, "third backup adds to the store\t%s\t%s\t\t\n", human(float64(s.store["backup3"]-s.store["backup2"])), human(float64(s.store["dump3"])))
	}
	w.Flush()
}
