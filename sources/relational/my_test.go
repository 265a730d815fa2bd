package relational

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

func myDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.InterpolateParams = true
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func myExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%.200s: %v", q, err)
	}
}

func myDBName(t *testing.T, dsn string) string {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.DBName
}

// TestMariaDBConformance runs the sources suite against MariaDB: one
// table (k varbinary primary key, data blob) per object.
func TestMariaDBConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Setup: func(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
			dsn := harness.MariaDBDB(t)
			db := myDB(t, dsn)
			for _, spec := range specs {
				myExec(t, db, "CREATE TABLE "+myIdent(spec.Name)+" (k varbinary(300) PRIMARY KEY, data blob)")
				for _, it := range spec.Items {
					myExec(t, db, "INSERT INTO "+myIdent(spec.Name)+" VALUES (?, ?)", []byte(it.Name), it.Data)
				}
			}
			name := myDBName(t, dsn)
			return discoverTables(t, myDialect{}, dsn, name, name, specs)
		},
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			db := myDB(t, "strata:strata@tcp(127.0.0.1:53306)/"+obj.Meta["database"])
			myExec(t, db, "UPDATE "+myIdent(obj.Meta["table"])+" SET data = ? WHERE k = ?", item.Data, []byte(item.Name))
		},
		NameOK: func(name string) bool {
			return utf8.ValidString(name) && !strings.ContainsAny(name, "\x00/\\") && utf8.RuneCountInString(name) <= 64 &&
				!strings.HasSuffix(name, " ") && !strings.ContainsAny(name, "\x01\x1f\x7f\t\n\u0085")
		},
		Reuses: true,
	})
}

const myTypesDDL = `CREATE TABLE kinds (
	id bigint AUTO_INCREMENT PRIMARY KEY, t text, vc varchar(40), b blob, lb longblob, i int, d decimal(30,10),
	f float, dd double, bt bit(8), e enum('a','b c'), s set('x','y'), da date, tm time(3), yr year,
	dt datetime(6), ts timestamp(6) NULL, j json, g geometry, big longtext, gen int AS (i * 2) STORED,
	KEY kinds_vc (vc)
)`

const myTypesRows = `INSERT INTO kinds (t, vc, b, lb, i, d, f, dd, bt, e, s, da, tm, yr, dt, ts, j, g, big)
SELECT CASE WHEN seq % 7 = 0 THEN NULL WHEN seq % 7 = 1 THEN '' ELSE CONCAT('tab\there\nnl \\ back ''q'' ünï \r', seq) END,
	CONCAT('vc', seq), CASE WHEN seq % 5 = 0 THEN NULL WHEN seq % 5 = 1 THEN '' ELSE UNHEX(CONCAT(LPAD(HEX(seq % 256), 2, '0'), '005C0A09')) END,
	CASE WHEN seq = 3 THEN REPEAT(UNHEX('00FF5C0A'), 100000) END, seq, seq * 1.0000000001,
	seq / 3, seq / 7, seq % 256, IF(seq % 2 = 0, 'a', 'b c'), IF(seq % 2 = 0, 'x,y', ''), '2026-01-01' + INTERVAL seq DAY,
	SEC_TO_TIME(seq * 61.5), 2000 + seq % 100, '2026-01-01 00:00:00.123456' + INTERVAL seq MINUTE,
	IF(seq % 3 = 0, NULL, '2026-02-01 00:00:00.5' + INTERVAL seq SECOND), JSON_OBJECT('k', seq, 's', 'x\ty'),
	IF(seq % 4 = 0, NULL, ST_GeomFromText(CONCAT('POINT(', seq, ' ', -seq, ')'))),
	CASE WHEN seq = 5 THEN REPEAT('long text ', 200000) END
FROM seq_1_to_2000`

func myRows(t *testing.T, db *sql.DB, table, order string) []string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + myIdent(table) + " ORDER BY " + order)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var out []string
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, v := range vals {
			if v == nil {
				b.WriteString("NULL|")
			} else {
				fmt.Fprintf(&b, "%q|", []byte(v))
			}
		}
		out = append(out, b.String())
	}
	return out
}

// TestMariaDBRoundTrip backs up tables of many types, loads them into
// another database under another name (twice), and applies a @diff.
func TestMariaDBRoundTrip(t *testing.T) {
	ctx := context.Background()
	srcDSN, dstDSN := harness.MariaDBDB(t), harness.MariaDBDB(t)
	src, dst := myDB(t, srcDSN), myDB(t, dstDSN)
	myExec(t, src, myTypesDDL)
	myExec(t, src, myTypesRows)
	myExec(t, src, "CREATE TABLE nokey (a int, b varchar(10))")
	myExec(t, src, "INSERT INTO nokey SELECT seq % 10, IF(seq % 3 = 0, NULL, CONCAT('v', seq % 10)) FROM seq_1_to_300")
	name := myDBName(t, srcDSN)
	specs := []sourcetest.Spec{{Name: "kinds"}, {Name: "nokey"}}
	s, objs := discoverTables(t, myDialect{}, srcDSN, name, name, specs)
	defer s.Close()
	orders := []string{"id", "a, b"}
	for i, obj := range objs {
		w, v := backupTable(t, s, obj, nil)
		if !strings.Contains(string(w.Data("load.sql")), "LOAD DATA LOCAL INFILE") {
			t.Errorf("%s: load.sql is %q", obj, w.Data("load.sql"))
		}
		target := "r_" + specs[i].Name
		opts := sources.LoadOptions{Database: myDBName(t, dstDSN), Table: target, Extra: sources.NewConfig()}
		for run := 0; run < 2; run++ {
			res, err := myLoader{}.Load(ctx, dstDSN, v, opts)
			if err != nil {
				t.Fatalf("load %s (run %d): %v", obj, run, err)
			}
			t.Logf("%s: %s", obj, res.Summary)
			sameRows(t, fmt.Sprintf("%s run %d", target, run), myRows(t, dst, target, orders[i]), myRows(t, src, specs[i].Name, orders[i]))
		}
		myExec(t, src, "UPDATE kinds SET vc = CONCAT('changed', id) WHERE id % 20 = 0")
		myExec(t, src, "DELETE FROM kinds WHERE id % 97 = 0")
		myExec(t, src, "DELETE FROM nokey WHERE a = 3")
		w2, v2 := backupTable(t, s, obj, v)
		t.Logf("%s second backup: %d new bytes", obj, w2.NewBytes())
		dw := sourcetest.NewWriter(nil)
		if err := (Differ{d: myDialect{}}).Diff(ctx, v, v2, dw); err != nil {
			t.Fatalf("diff %s: %v", obj, err)
		}
		if _, err := (myLoader{}).Load(ctx, dstDSN, dw.Version().WithInfo(v2.Info()), opts); err != nil {
			t.Fatalf("load the diff of %s: %v", obj, err)
		}
		sameRows(t, target+" after its @diff", myRows(t, dst, target, orders[i]), myRows(t, src, specs[i].Name, orders[i]))
		handApplied(t, v, dw, specs[i].Name, orders[i], src)
	}
}

// handApplied loads the first version v under its own name into a fresh
// database, then runs the @diff's load.sql there with the stock client
// (as a person would, in the diff's directory): the table must equal src's.
func handApplied(t *testing.T, v *sourcetest.Version, diff *sourcetest.Writer, table, order string, src *sql.DB) {
	t.Helper()
	dsn := harness.MariaDBDB(t)
	if _, err := (myLoader{}).Load(context.Background(), dsn, v, sources.LoadOptions{Database: myDBName(t, dsn), Extra: sources.NewConfig()}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, p := range diff.Paths() {
		if err := os.WriteFile(filepath.Join(dir, p), diff.Data(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("mariadb", "--no-defaults", "--local-infile=1", "-h", "127.0.0.1", "-P", "53306", "-u", "strata", myDBName(t, dsn), "-e", "source load.sql")
	cmd.Dir, cmd.Env = dir, append(os.Environ(), "MYSQL_PWD=strata")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mariadb -e 'source load.sql' in the @diff: %v\n%s\nload.sql:\n%s", err, out, diff.Data("load.sql"))
	}
	sameRows(t, table+" after the @diff's load.sql", myRows(t, myDB(t, dsn), table, order), myRows(t, src, table, order))
}
