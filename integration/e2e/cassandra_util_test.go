package e2e

import (
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/integration/harness"
)

// cassSession connects to hosts at consistency cl.
func cassSession(t *testing.T, cl gocql.Consistency, hosts ...string) *gocql.Session {
	t.Helper()
	c := gocql.NewCluster(hosts...)
	c.Timeout = 60 * time.Second
	c.ConnectTimeout = 20 * time.Second
	c.Consistency = cl
	c.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 3}
	c.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy())
	s, err := c.CreateSession()
	if err != nil {
		t.Fatalf("connect to cassandra %v: %v", hosts, err)
	}
	t.Cleanup(s.Close)
	return s
}

func cql(t *testing.T, s *gocql.Session, stmt string, vals ...interface{}) {
	t.Helper()
	if err := s.Query(stmt, vals...).Exec(); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// parallel runs f(0..n-1) on workers goroutines and fails on the first
// error.
func parallel(t *testing.T, n, workers int, f func(i int) error) {
	t.Helper()
	ch := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if err := f(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		ch <- i
	}
	close(ch)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// cassColumn is a column as system_schema describes it.
type cassColumn struct {
	name, kind, typ string
}

func tableColumns(t *testing.T, s *gocql.Session, ks, table string) []cassColumn {
	t.Helper()
	iter := s.Query(`SELECT column_name, kind, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?`, ks, table).Iter()
	var out []cassColumn
	var c cassColumn
	for iter.Scan(&c.name, &c.kind, &c.typ) {
		out = append(out, c)
	}
	if err := iter.Close(); err != nil || len(out) == 0 {
		t.Fatalf("columns of %s.%s: %d, %v", ks, table, len(out), err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func quoteIdent(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// tableRows reads every row of a table, cell by cell: each column's value
// as JSON and, for cells that have them, write time(s) and TTL(s), keyed
// by the row's primary key.
func tableRows(t *testing.T, s *gocql.Session, ks, table string, cols []cassColumn) map[string]map[string]interface{} {
	t.Helper()
	return tableRowsWhere(t, s, ks, table, cols, "")
}

// tableRowsWhere is tableRows of the rows a WHERE clause selects (all
// when where is empty).
func tableRowsWhere(t *testing.T, s *gocql.Session, ks, table string, cols []cassColumn, where string, vals ...interface{}) map[string]map[string]interface{} {
	t.Helper()
	var sel, keys []string
	for i, c := range cols {
		q := quoteIdent(c.name)
		sel = append(sel, fmt.Sprintf("toJson(%s) AS v%d", q, i))
		switch {
		case c.kind == "partition_key" || c.kind == "clustering":
			keys = append(keys, fmt.Sprintf("v%d", i))
		case c.typ != "counter":
			sel = append(sel, fmt.Sprintf("writetime(%s) AS w%d, ttl(%s) AS t%d", q, i, q, i))
		}
	}
	stmt := fmt.Sprintf("SELECT %s FROM %s.%s", strings.Join(sel, ", "), quoteIdent(ks), quoteIdent(table))
	if where != "" {
		stmt += " WHERE " + where
	}
	iter := s.Query(stmt, vals...).PageSize(5000).Iter()
	out := map[string]map[string]interface{}{}
	for {
		row := map[string]interface{}{}
		if !iter.MapScan(row) {
			break
		}
		var k []string
		for _, c := range keys {
			k = append(k, fmt.Sprint(row[c]))
		}
		out[strings.Join(k, "|")] = row
	}
	if err := iter.Close(); err != nil {
		t.Fatalf("read %s.%s: %v", ks, table, err)
	}
	return out
}

// sameRows compares two tables' rows cell by cell: values and write
// times equal, TTLs within ttlSlack seconds (the time between the
// backup and the load, plus rounding).
func sameRows(t *testing.T, what string, got, want map[string]map[string]interface{}, ttlSlack float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
	}
	bad := 0
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: row %s missing", what, k)
			bad++
		}
		for col, wv := range w {
			if ok && !sameCell(col, g[col], wv, ttlSlack) {
				t.Errorf("%s: row %s column %s = %v, want %v", what, k, col, g[col], wv)
				bad++
			}
		}
		if bad > 10 {
			t.Fatalf("%s: too many differences", what)
		}
	}
}

func sameCell(col string, got, want interface{}, slack float64) bool {
	if !strings.HasPrefix(col, "t") {
		return reflect.DeepEqual(got, want)
	}
	g, w := ttlList(got), ttlList(want)
	if len(g) != len(w) {
		return false
	}
	for i := range g {
		if (g[i] == 0) != (w[i] == 0) || math.Abs(float64(g[i]-w[i])) > slack {
			return false
		}
	}
	return true
}

func ttlList(v interface{}) []int {
	switch x := v.(type) {
	case int:
		return []int{x}
	case []int:
		return x
	case nil:
		return nil
	}
	return []int{-1}
}

// snapshotBytes takes a `nodetool snapshot` of the keyspace on nodes 1-3
// and returns the bytes of each table's snapshot files, summed over the
// nodes; the snapshots are cleared afterwards.
func snapshotBytes(t *testing.T, ks string) map[string]int64 {
	t.Helper()
	tag := "strata-cmp-" + ks
	out := map[string]int64{}
	for n := 1; n <= 3; n++ {
		harness.Nodetool(t, n, "flush", ks)
		harness.Nodetool(t, n, "snapshot", "-t", tag, ks)
		root := filepath.Join(harness.CassandraDataDir(n), ks)
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.Contains(p, "/snapshots/"+tag+"/") {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			table, _, _ := strings.Cut(strings.SplitN(rel, "/", 2)[0], "-")
			fi, err := d.Info()
			if err == nil {
				out[table] += fi.Size()
			}
			return err
		})
		if err != nil {
			t.Fatalf("measure snapshot on node %d: %v", n, err)
		}
		harness.Nodetool(t, n, "clearsnapshot", "-t", tag, "--", ks)
	}
	return out
}

// cqlshWorkers is how many cqlsh -f run at once when a table's parts are
// replayed. cqlsh sends one statement and waits for its answer, so one
// process leaves the node and the second core idle between round trips;
// measured on 3,000-row slices of big's parts (load average 12-24),
// 1/2/4/8 processes gave 197/177/284/151 rows/s. Each statement costs
// about 1.1 ms of cqlsh's CPU and as much of the target node's, so more
// processes cannot go much faster on two cores.
const cqlshWorkers = 4

// cqlshFiles runs stock cqlsh -f on each file against host, up to
// workers at a time, and fails on any error it prints.
func cqlshFiles(t *testing.T, cqlsh, host string, workers int, files ...string) {
	t.Helper()
	parallel(t, len(files), workers, func(i int) error {
		cmd := exec.Command(cqlsh, "--request-timeout=120", "-f", files[i], host)
		out, err := cmd.CombinedOutput()
		var errs []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "Error") || strings.Contains(l, "error") {
				errs = append(errs, l)
			}
		}
		if err != nil || len(errs) > 0 {
			return fmt.Errorf("cqlsh -f %s: %v\n%s", files[i], err, strings.Join(errs, "\n"))
		}
		return nil
	})
}

// dataParts lists a version directory's data parts.
func dataParts(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "data-") && strings.HasSuffix(e.Name(), ".cql") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s holds no data-*.cql", dir)
	}
	return out
}
