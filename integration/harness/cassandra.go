package harness

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// CassandraHosts are the addresses of the three-node test cluster
// "strata-it" (CQL port 9042 on each); node N is CassandraHosts[N-1].
var CassandraHosts = []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"}

// CassandraRestoreHost is the one-node cluster "strata-it-restore" that
// restore tests load backups into, kept apart from the cluster they back up.
const CassandraRestoreHost = "127.0.0.4"

// Cassandra starts the three-node test cluster if needed and returns its
// hosts (CQL port 9042), so tests can back up a real multi-node ring.
func Cassandra(t testing.TB) []string {
	t.Helper()
	Require(t, "cassandra")
	return append([]string(nil), CassandraHosts...)
}

// CassandraRestore starts the separate one-node restore cluster if needed
// and returns its host (CQL port 9042).
func CassandraRestore(t testing.TB) string {
	t.Helper()
	Require(t, "cassandra-restore")
	return CassandraRestoreHost
}

// CassandraDataDir returns node n's data directory (keyspace directories,
// with snapshots under <ks>/<table>-<id>/snapshots/<tag>/); n is 1-3 for
// the test cluster and 4 for the restore cluster.
func CassandraDataDir(n int) string {
	return filepath.Join(nodeDir(n), "data")
}

// StopCassandraNode stops node n (1-3, or 4) and waits until its process
// has exited; failure tests use it to take a replica away.
func StopCassandraNode(t testing.TB, n int) {
	t.Helper()
	Run(t, "cassandra/stop-node.sh", strconv.Itoa(n))
}

// KillCassandraNode kills node n with SIGKILL, as in a crash: no drain,
// peers are not told and notice only through failure detection.
func KillCassandraNode(t testing.TB, n int) {
	t.Helper()
	Run(t, "cassandra/stop-node.sh", strconv.Itoa(n), "kill")
}

// StartCassandraNode starts node n again and waits until it accepts CQL and
// the other running nodes of its cluster see it as up.
func StartCassandraNode(t testing.TB, n int) {
	t.Helper()
	Run(t, "cassandra/start-node.sh", strconv.Itoa(n))
}

// Nodetool runs nodetool with args against node n and returns its output.
func Nodetool(t testing.TB, n int, args ...string) string {
	t.Helper()
	return Run(t, "cassandra/nodetool.sh", append([]string{strconv.Itoa(n)}, args...)...)
}

func nodeDir(n int) string {
	cluster := "cassandra"
	if n == 4 {
		cluster = "cassandra-restore"
	}
	return filepath.Join(WorkDir(), cluster, "node"+strconv.Itoa(n))
}

// CassandraJars returns the directory of the servers' Cassandra jars
// (fetched once), the lib/ that restore's --sstable-jars takes.
func CassandraJars(t testing.TB) string {
	t.Helper()
	return strings.TrimSpace(Run(t, "cassandra/jars.sh"))
}
