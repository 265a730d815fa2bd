package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// cassHosts are the three nodes as --hosts takes them.
const cassHosts = "127.0.0.1,127.0.0.2,127.0.0.3"

// bigRows is the size of the large table: 20,000 partitions of 10 rows.
const bigRows = 200000

// TestCassandra drives the Cassandra source through the CLI on the
// harness's clusters, with an RF=3 keyspace of three tables: types (every
// CQL type, frozen and non-frozen collections and UDTs, statics, a
// two-column clustering key, TTL'd cells, deleted rows and cells),
// counts (counters) and big (200,000 small rows). It checks that
//   - the stored bytes are at most 0.4x what `nodetool snapshot` of the
//     three nodes takes;
//   - stock cqlsh -f of schema.cql and every data part, read from the
//     mount, rebuilds every row of every table on the one-node cluster
//     (the 200,000 of big included): values and write times equal, TTLs
//     within seconds, cell by cell;
//   - restore --to-cassandra into a renamed RF=1 keyspace does the same
//     for every row of every table, the 200,000 of big included, through
//     CQL and through SSTables (--sstable-jars, in segments), and through
//     SSTables into the 3-node cluster at RF=2 for types;
//   - a node stopped in the middle of a backup does not fail it, and the
//     manifest names it;
//   - after updating 5% of big, a second backup adds at most 10% of the
//     first's stored bytes, and its @diff replayed over a restore of the
//     first version gives the second, through CQL and through SSTables.
func TestCassandra(t *testing.T) {
	hosts := harness.Cassandra(t)
	target := harness.CassandraRestore(t)
	cqlsh := harness.Cqlsh(t)
	src := cassSession(t, gocql.Quorum, hosts...)
	dst := cassSession(t, gocql.One, target)
	ks := strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(harness.UniqueName(t)))
	t.Cleanup(func() {
		src.Query("DROP KEYSPACE IF EXISTS " + ks).Exec()
		src.Query("DROP KEYSPACE IF EXISTS " + ks + "_b3").Exec()
		for _, k := range []string{ks, ks + "_r", ks + "_b"} {
			dst.Query("DROP KEYSPACE IF EXISTS " + k).Exec()
		}
	})
	start := time.Now()
	cql(t, src, "CREATE KEYSPACE "+ks+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
	createTypes(t, src, ks)
	createCounts(t, src, ks)
	createBig(t, src, ks)
	t.Logf("fixture written in %s", time.Since(start).Round(time.Second))
	snaps := snapshotBytes(t, ks)

	e := newEnv(t)
	before := storeBytes(t, e.store)
	backupAt := time.Now()
	first := backupKeyspace(t, e, ks, "--part-size", "2MiB")
	stored := storeBytes(t, e.store) - before
	checkSaving(t, first, snaps, stored)

	mp := e.mount()
	want := &sourceTables{s: src, ks: ks}
	tables := []string{"types", "counts", "big"}
	for _, tb := range tables {
		dir := versionDir(mp, first[tb])
		cqlshFiles(t, cqlsh, target, 1, filepath.Join(dir, "schema.cql"))
		parts := dataParts(t, dir)
		replayAt := time.Now()
		cqlshFiles(t, cqlsh, target, cqlshWorkers, parts...)
		replayed := time.Since(replayAt)
		want.compare(t, dst, ks, tb, time.Since(backupAt).Seconds()+5)
		t.Logf("cqlsh -f of %s.%s's %d data parts from the mount took %s; the rows match (%s after the backup)",
			ks, tb, len(parts), replayed.Round(time.Second), time.Since(backupAt).Round(time.Second))
	}

	loadAt := time.Now()
	for _, tb := range tables {
		e.ok("restore", "--to-cassandra", target, "--db", ks+"_r", "--replication", "{'class':'SimpleStrategy','replication_factor':1}", spec(first[tb]))
		want.compare(t, dst, ks+"_r", tb, time.Since(backupAt).Seconds()+5)
	}
	t.Logf("restore --to-cassandra of the keyspace took %s", time.Since(loadAt).Round(time.Second))
	checkReplication(t, dst, ks+"_r", "1")

	// The same through SSTables: CQLSSTableWriter and sstableloader's
	// streaming, from the servers' own jars (the counter table's
	// UPDATEs still go through CQL), big's 33 MB in segments of 8 MiB
	// streamed while the next is written.
	bulk := []string{"--sstable-jars", harness.CassandraJars(t), "--sstable-segment", "8MiB"}
	loadAt = time.Now()
	for _, tb := range tables {
		e.ok(append(append([]string{"restore", "--to-cassandra", target, "--db", ks + "_b", "--replication", "{'class':'SimpleStrategy','replication_factor':1}"}, bulk...), spec(first[tb]))...)
		want.compare(t, dst, ks+"_b", tb, time.Since(backupAt).Seconds()+5)
	}
	t.Logf("restore --to-cassandra --sstable-jars of the keyspace took %s", time.Since(loadAt).Round(time.Second))
	// Into the 3-node cluster with RF=2 (sstableloader's code sends each
	// range to its replicas): every type's rows, read back at ALL.
	e.ok(append(append([]string{"restore", "--to-cassandra", cassHosts, "--db", ks + "_b3", "--replication", "{'class':'SimpleStrategy','replication_factor':2}"}, bulk...), spec(first["types"]))...)
	want.compare(t, cassSession(t, gocql.All, hosts...), ks+"_b3", "types", time.Since(backupAt).Seconds()+5)
	checkReplication(t, src, ks+"_b3", "2")

	t.Run("node-down", func(t *testing.T) { nodeDownBackup(t, ks) })
	t.Run("second", func(t *testing.T) {
		secondBackup(t, e, src, dst, target, ks, []loadInto{{ks + "_r", nil}, {ks + "_b", bulk}}, first)
	})
}

// backupKeyspace backs up every table of ks and returns the versions by
// table.
func backupKeyspace(t *testing.T, e *env, ks string, args ...string) map[string]index.Version {
	t.Helper()
	r := e.ok(append([]string{"--json", "backup", "cassandra", "--cluster", "it", "--hosts", cassHosts, "--only", ks}, args...)...)
	vs := parseBackups(t, r)
	if len(vs) != 3 {
		t.Fatalf("backup of %s: %d versions, want 3\n%s", ks, len(vs), r)
	}
	return vs
}

// parseBackups reads `backup --json`'s versions by table.
func parseBackups(t *testing.T, r result) map[string]index.Version {
	t.Helper()
	out := map[string]index.Version{}
	var res []struct {
		Version *index.Version `json:"version"`
		Error   string         `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("parse backup --json: %v\n%s", err, r)
	}
	for _, x := range res {
		if x.Version == nil {
			t.Fatalf("backup failed: %s\n%s", x.Error, r)
		}
		out[x.Version.Object.Table] = *x.Version
	}
	return out
}

// checkSaving compares what the store took with the three nodes'
// snapshots: at most 0.4x, per keyspace; each table's figure is logged.
func checkSaving(t *testing.T, vs map[string]index.Version, snaps map[string]int64, stored int64) {
	t.Helper()
	var snap int64
	for tb, v := range vs {
		snap += snaps[tb]
		t.Logf("%s: %d rows, CQL %d bytes, snapshots of 3 nodes %d bytes, stored %d bytes (%.2fx), source's own snapshot figure %s",
			tb, atoi(v.Meta["rows"]), v.Stats.Bytes, snaps[tb], v.Stats.StoredBytes, float64(v.Stats.StoredBytes)/float64(max(snaps[tb], 1)), v.Meta["snapshot_bytes"])
	}
	t.Logf("keyspace: snapshots %d bytes, store grew %d bytes: %.2fx", snap, stored, float64(stored)/float64(snap))
	if float64(stored) > 0.4*float64(snap) {
		t.Errorf("store grew %d bytes, more than 0.4x the nodes' snapshots (%d bytes)", stored, snap)
	}
}

func atoi(s string) int64 {
	var n int64
	fmt.Sscan(s, &n)
	return n
}

// sourceTables reads each table of the source once, for the checks it
// stays unchanged for (the cqlsh replay and the restore): big's 200,000
// rows read at QUORUM are a step of their own.
type sourceTables struct {
	s    *gocql.Session
	ks   string
	rows map[string]map[string]map[string]interface{}
}

// compare compares a table of the source with one of the target.
func (st *sourceTables) compare(t *testing.T, dst *gocql.Session, dstKS, table string, ttlSlack float64) {
	t.Helper()
	cols := tableColumns(t, st.s, st.ks, table)
	if st.rows == nil {
		st.rows = map[string]map[string]map[string]interface{}{}
	}
	want, ok := st.rows[table]
	if !ok {
		want = tableRows(t, st.s, st.ks, table, cols)
		st.rows[table] = want
	}
	sameRows(t, dstKS+"."+table, tableRows(t, dst, dstKS, table, cols), want, ttlSlack)
}

// compareTables compares a table of the source with one of the target.
func compareTables(t *testing.T, src *gocql.Session, srcKS string, dst *gocql.Session, dstKS, table string, ttlSlack float64) {
	t.Helper()
	cols := tableColumns(t, src, srcKS, table)
	want := tableRows(t, src, srcKS, table, cols)
	got := tableRows(t, dst, dstKS, table, cols)
	sameRows(t, dstKS+"."+table, got, want, ttlSlack)
}

func checkReplication(t *testing.T, s *gocql.Session, ks, rf string) {
	t.Helper()
	var repl map[string]string
	if err := s.Query(`SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?`, ks).Scan(&repl); err != nil {
		t.Fatal(err)
	}
	if repl["replication_factor"] != rf {
		t.Errorf("keyspace %s has replication %v, want factor %s", ks, repl, rf)
	}
}

// createBig writes bigRows rows of random values, one unlogged batch per
// partition.
func createBig(t *testing.T, s *gocql.Session, ks string) {
	t.Helper()
	cql(t, s, "CREATE TABLE "+ks+".big (k int, c int, v text, n bigint, PRIMARY KEY (k, c))")
	parallel(t, bigRows/10, 32, func(k int) error {
		r := rand.New(rand.NewPCG(uint64(k), 1))
		b := s.NewBatch(gocql.UnloggedBatch)
		for c := range 10 {
			b.Query("INSERT INTO "+ks+".big (k, c, v, n) VALUES (?, ?, ?, ?)", k, c, randText(r), int64(r.Uint64()))
		}
		return s.ExecuteBatch(b)
	})
}

func randText(r *rand.Rand) string {
	b := make([]byte, 18)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// createCounts writes a counter table.
func createCounts(t *testing.T, s *gocql.Session, ks string) {
	t.Helper()
	cql(t, s, "CREATE TABLE "+ks+".counts (k text PRIMARY KEY, a counter, b counter)")
	for i := range 20 {
		cql(t, s, "UPDATE "+ks+".counts SET a = a + ?, b = b - ? WHERE k = ?", int64(i*7), int64(i), fmt.Sprint("key", i))
	}
}
