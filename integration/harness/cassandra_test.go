package harness

import (
	"fmt"
	"testing"
	"time"

	"github.com/gocql/gocql"
)

// TestCassandraQuorumSurvivesNodeLoss checks the cluster is a real
// three-replica ring: rows written at QUORUM stay readable at QUORUM with
// one node down, and the node rejoins after a restart.
func TestCassandraQuorumSurvivesNodeLoss(t *testing.T) {
	hosts := Cassandra(t)
	s := cassandraSession(t, hosts...)
	cqlExec(t, s, `CREATE KEYSPACE IF NOT EXISTS harness_smoke WITH replication =
		{'class': 'SimpleStrategy', 'replication_factor': 3}`)
	cqlExec(t, s, `CREATE TABLE IF NOT EXISTS harness_smoke.kv (k int PRIMARY KEY, v text)`)
	const rows = 50
	for k := 0; k < rows; k++ {
		q := s.Query(`INSERT INTO harness_smoke.kv (k, v) VALUES (?, ?)`, k, fmt.Sprint("v", k))
		if err := q.Consistency(gocql.Quorum).Exec(); err != nil {
			t.Fatalf("insert %d at QUORUM: %v", k, err)
		}
	}

	StopCassandraNode(t, 3)
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			StartCassandraNode(t, 3)
		}
	})
	checkRows(t, s, gocql.Quorum, rows)

	StartCassandraNode(t, 3)
	restarted = true
	checkRows(t, cassandraSession(t, hosts[2]), gocql.All, rows)
}

// TestCassandraRestoreClusterIsSeparate checks the restore cluster answers
// CQL and does not share schema with the test cluster.
func TestCassandraRestoreClusterIsSeparate(t *testing.T) {
	host := CassandraRestore(t)
	s := cassandraSession(t, host)
	var name string
	if err := s.Query(`SELECT cluster_name FROM system.local`).Scan(&name); err != nil {
		t.Fatalf("read cluster_name: %v", err)
	}
	if name != "strata-it-restore" {
		t.Fatalf("cluster_name = %q, want strata-it-restore", name)
	}
}

func cassandraSession(t *testing.T, hosts ...string) *gocql.Session {
	t.Helper()
	c := gocql.NewCluster(hosts...)
	c.Timeout = 10 * time.Second
	c.ConnectTimeout = 10 * time.Second
	c.RetryPolicy = &gocql.SimpleRetryPolicy{NumRetries: 3}
	s, err := c.CreateSession()
	if err != nil {
		t.Fatalf("connect to cassandra %v: %v", hosts, err)
	}
	t.Cleanup(s.Close)
	return s
}

func cqlExec(t *testing.T, s *gocql.Session, cql string) {
	t.Helper()
	if err := s.Query(cql).Exec(); err != nil {
		t.Fatalf("%s: %v", cql, err)
	}
}

func checkRows(t *testing.T, s *gocql.Session, cl gocql.Consistency, rows int) {
	t.Helper()
	for k := 0; k < rows; k++ {
		var v string
		q := s.Query(`SELECT v FROM harness_smoke.kv WHERE k = ?`, k).Consistency(cl)
		if err := q.Scan(&v); err != nil {
			t.Fatalf("read %d at %v: %v", k, cl, err)
		}
		if want := fmt.Sprint("v", k); v != want {
			t.Fatalf("row %d = %q at %v, want %q", k, v, cl, want)
		}
	}
}
