package relational

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// syncBuffer is a log sink safe for the source's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

// TestPostgresChangeRead checks the second backup that reads only the rows
// changed since the first (xmin against the first's snapshot), by a change
// scan: after updates, deletes, inserts (at both ends and in the middle of
// the key order), updates of the key, a transaction that was in progress
// (with a subtransaction) during the first backup and committed after it,
// an aborted transaction, VACUUM FREEZE and VACUUM FULL, its data file
// must equal, byte for byte, the file of a full read at the same state; a
// third on one connection takes the change read instead, with the same
// file; a previous version that does not hold what its mark says falls
// back to the full read; a recreated table is read whole.
func TestPostgresChangeRead(t *testing.T) {
	ctx := context.Background()
	dsn := harness.PostgresDB(t)
	conn, inflight := pgConn(t, dsn), pgConn(t, dsn)
	pgExec(t, conn, `CREATE TABLE ch (id int, k text, v text, n float8, PRIMARY KEY (k, id));
		INSERT INTO ch SELECT s, 'k' || (s % 7), md5(s::text), s / 3.0 FROM generate_series(1, 6000) s;
		ANALYZE ch`)
	logs := &syncBuffer{}
	src, err := newSource(pgDialect{}, Config{DSN: dsn, Cluster: "st", Databases: []string{dbName(t, dsn)}, RangeRows: 1500,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	objs, err := src.Discover(ctx)
	if err != nil || len(objs) != 1 {
		t.Fatalf("discover: %v %v", objs, err)
	}
	obj := objs[0]
	// In progress during the first backup: an update, and an insert and an
	// update in a subtransaction.
	pgExec(t, inflight, `BEGIN; UPDATE ch SET v = 'in flight' WHERE id = 5; SAVEPOINT s;
		INSERT INTO ch VALUES (900001, 'k1', 'sub', 0); UPDATE ch SET v = 'sub' WHERE id = 6; RELEASE SAVEPOINT s`)
	_, v1 := backupTable(t, src, obj, nil)
	if !strings.HasPrefix(v1.Info().Meta[changeMarkKey], pgMarkPrefix+":") {
		t.Fatalf("the first version records no change mark: %v", v1.Info().Meta)
	}
	logs.take()
	pgExec(t, inflight, "COMMIT")
	pgExec(t, conn, `UPDATE ch SET v = 'changed' WHERE id % 20 = 0; DELETE FROM ch WHERE id % 101 = 0;
		INSERT INTO ch VALUES (0, 'k0', E'new\ttab', 'NaN'), (30000, 'k9', NULL, '-Infinity'), (3100, 'k3a', 'middle', 1);
		UPDATE ch SET id = id + 100000 WHERE id = 50; UPDATE ch SET k = 'k5' WHERE id = 52`)
	pgExec(t, conn, `BEGIN; UPDATE ch SET v = 'aborted' WHERE id % 3 = 0; ROLLBACK`)
	pgExec(t, conn, `VACUUM FREEZE ch`)
	pgExec(t, conn, `VACUUM FULL ch`)
	data := dataFileName(pgDialect{}, "ch")

	w2, v2 := backupTable(t, src, obj, v1)
	if l := logs.take(); !strings.Contains(l, "table written from a change scan") {
		t.Fatalf("the second backup did not read only the changes:\n%s", l)
	}
	wFull, _ := backupTable(t, src, obj, nil)
	if !bytes.Equal(w2.Data(data), wFull.Data(data)) {
		t.Fatalf("the change read's file (%d bytes) differs from a full read's (%d bytes)", len(w2.Data(data)), len(wFull.Data(data)))
	}
	if w2.NewBytes()*10 > int64(len(wFull.Data(data))) {
		t.Errorf("the change read stored %d new bytes of %d", w2.NewBytes(), len(wFull.Data(data)))
	}
	sameRows(t, "change read", strings.Split(strings.TrimSpace(string(w2.Data(data))), "\n"), copyLines(t, conn, "ch"))

	// A third backup on the second, on one connection (no change scan:
	// the change read): nothing changed, nothing new.
	one, err := newSource(pgDialect{}, Config{DSN: dsn, Cluster: "st", Databases: []string{dbName(t, dsn)}, RangeRows: 1500, Workers: 1,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	w3, v3 := backupTable(t, one, obj, v2)
	if !bytes.Equal(w3.Data(data), wFull.Data(data)) || w3.NewBytes() > int64(len(w3.Data(schemaFile))) {
		t.Errorf("an unchanged table's third backup stored %d new bytes or differs", w3.NewBytes())
	}
	if l := logs.take(); !strings.Contains(l, "table written from its changes") {
		t.Errorf("the third backup, on one connection, did not use the change read:\n%s", l)
	}

	// A previous file missing a row it should hold: back to the full read.
	broken := withFile(t, v3, data, bytes.Replace(w3.Data(data), []byte("\n7\tk0\t"), []byte("\n7\tk0x\t"), 1))
	w4, _ := backupTable(t, src, obj, broken)
	if l := logs.take(); !strings.Contains(l, "does not match its change mark") {
		t.Errorf("a broken previous version did not fall back to the full read:\n%s", l)
	}
	if !bytes.Equal(w4.Data(data), wFull.Data(data)) {
		t.Errorf("the fallback's file differs from a full read's")
	}

	// The table recreated with the same rows: read whole.
	pgExec(t, conn, `CREATE TABLE ch2 AS SELECT * FROM ch; DROP TABLE ch; ALTER TABLE ch2 RENAME TO ch;
		ALTER TABLE ch ADD PRIMARY KEY (k, id); UPDATE ch SET v = 'after' WHERE id = 10`)
	w5, _ := backupTable(t, src, obj, v3)
	if l := logs.take(); strings.Contains(l, "from its changes") || !strings.Contains(l, "recreated") {
		t.Errorf("a recreated table was not read whole:\n%s", l)
	}
	sameRows(t, "recreated", strings.Split(strings.TrimSpace(string(w5.Data(data))), "\n"), copyLines(t, conn, "ch"))
}

// copyLines is the table's COPY text in key order, from the server.
func copyLines(t *testing.T, c *pgx.Conn, table string) []string {
	t.Helper()
	var buf bytes.Buffer
	if _, err := c.PgConn().CopyTo(context.Background(), &buf, "COPY (SELECT id, k, v, n FROM "+table+" ORDER BY k, id) TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(buf.String()), "\n")
}

// withFile returns v with its file at path replaced by data.
func withFile(t *testing.T, v *sourcetest.Version, path string, data []byte) *sourcetest.Version {
	t.Helper()
	w := sourcetest.NewWriter(nil)
	for _, e := range v.Entries() {
		if e.Type != sources.TypeFile {
			continue
		}
		rc, err := v.Open(context.Background(), e.Path)
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if e.Path == path {
			content = data
		}
		e.Size = int64(len(content))
		if err := w.Add(context.Background(), e, bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	return w.Version().WithInfo(v.Info())
}

// TestPgUnchangedRule evaluates the xmin condition on the server for raw
// 32-bit xmins around a wraparound: below the bound and not listed is
// unchanged; listed, at or above the bound, or mapping below 3 is not;
// the permanent ids 0-2 are unchanged.
func TestPgUnchangedRule(t *testing.T) {
	conn := pgConn(t, harness.PostgresDB(t))
	const epoch1 = uint64(1) << 32
	for _, tc := range []struct {
		since string
		xmin  uint64 // raw 32-bit
		want  bool
	}{
		{fmt.Sprintf("%d:%d:%d", epoch1+100, epoch1+50, epoch1+40), 30, true},
		{fmt.Sprintf("%d:%d:%d", epoch1+100, epoch1+50, epoch1+40), 40, false},
		{fmt.Sprintf("%d:%d:%d", epoch1+100, epoch1+50, epoch1+40), 50, false},
		{fmt.Sprintf("%d:%d:%d", epoch1+100, epoch1+50, epoch1+40), 99, false},
		{fmt.Sprintf("%d:%d:%d", epoch1+100, epoch1+50, epoch1+40), 4294967000, true},
		{fmt.Sprintf("%d:%d:-", epoch1+100, epoch1+50), 2, true},
		{fmt.Sprintf("%d:%d:-", epoch1+100, epoch1+50), 49, true},
		{"1000:500:", 499, true},
		{"1000:500:", 500, false},
		{"1000:500:", 4000000000, false}, // would lie before id 0
		{"1000:500:", 1, true},
	} {
		cond, err := pgUnchanged(tc.since)
		if err != nil {
			t.Fatal(err)
		}
		var got bool
		if err := conn.QueryRow(context.Background(), "SELECT "+cond+" FROM (SELECT $1::text::xid AS xmin) x", strconv.FormatUint(tc.xmin, 10)).Scan(&got); err != nil {
			t.Fatalf("%s: %v", cond, err)
		}
		if got != tc.want {
			t.Errorf("since %s, xmin %d: unchanged %v, want %v", tc.since, tc.xmin, got, tc.want)
		}
	}
	for _, bad := range []string{"", "1:2", "5:9:-", "9:5:x", fmt.Sprintf("%d:1:-", uint64(1)<<32)} {
		if _, err := pgUnchanged(bad); err == nil {
			t.Errorf("filter %q accepted", bad)
		}
	}
}

// TestPostgresChangeScanByCount checks the change scan of an integer-keyed
// table, which merges by key and the row count instead of reading every
// key: after updates and inserts between and around existing keys, the
// file equals the table's COPY (what a full read writes); after a key moved to a free value (its old
// key is gone), a delete, and a delete and an insert that keep the row
// count, the row count sends it to the key read, with the same file.
func TestPostgresChangeScanByCount(t *testing.T) {
	dsn := harness.PostgresDB(t)
	conn := pgConn(t, dsn)
	pgExec(t, conn, `CREATE TABLE ci (id bigint PRIMARY KEY, v text);
		INSERT INTO ci SELECT s * 10, md5(s::text) FROM generate_series(1, 2000) s; ANALYZE ci`)
	logs := &syncBuffer{}
	src, err := newSource(pgDialect{}, Config{DSN: dsn, Cluster: "st", Databases: []string{dbName(t, dsn)},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	objs, err := src.Discover(context.Background())
	if err != nil || len(objs) != 1 {
		t.Fatalf("discover: %v %v", objs, err)
	}
	data := dataFileName(pgDialect{}, "ci")
	_, prev := backupTable(t, src, objs[0], nil)
	for _, step := range []struct{ name, sql, log string }{
		{"updates and inserts", `UPDATE ci SET v = 'u' WHERE id % 200 = 0; INSERT INTO ci VALUES (15, 'a'), (-3, 'b'), (99999, 'c')`, "by_count=true"},
		{"a key moved", `UPDATE ci SET id = 12345 WHERE id = 30`, "reads the changes and every key"},
		// Fewer rows, seen before any is merged: the changed rows already
		// being read serve the key read.
		{"a delete", `DELETE FROM ci WHERE id = 500`, "rows were deleted: the change scan reads every key"},
		{"a delete and an insert", `DELETE FROM ci WHERE id = 600; INSERT INTO ci VALUES (605, 'd')`, "reads the changes and every key"},
	} {
		logs.take()
		pgExec(t, conn, step.sql)
		w, v := backupTable(t, src, objs[0], prev)
		l := logs.take()
		if !strings.Contains(l, "table written from a change scan") || !strings.Contains(l, step.log) {
			t.Fatalf("%s: not written from a change scan (%s):\n%s", step.name, step.log, l)
		}
		var full bytes.Buffer
		if _, err := conn.PgConn().CopyTo(context.Background(), &full, "COPY (SELECT id, v FROM ci ORDER BY id) TO STDOUT"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Data(data), full.Bytes()) {
			t.Fatalf("%s: the change scan's file (%d bytes) differs from the table's COPY (%d bytes)", step.name, len(w.Data(data)), full.Len())
		}
		prev = v
	}
}
