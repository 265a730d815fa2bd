package cassandra

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// testSession connects to the harness's three-node cluster.
func testSession(t *testing.T) (*gocql.Session, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs the Cassandra cluster")
	}
	hosts := harness.Cassandra(t)
	c := gocql.NewCluster(hosts...)
	c.Timeout = 30 * time.Second
	c.ConnectTimeout = 10 * time.Second
	c.Consistency = gocql.Quorum
	s, err := c.CreateSession()
	if err != nil {
		t.Fatalf("connect to cassandra %v: %v", hosts, err)
	}
	t.Cleanup(s.Close)
	return s, hosts
}

// newKeyspace creates a keyspace with RF=3 that the test drops at its end.
func newKeyspace(t *testing.T, s *gocql.Session) string {
	t.Helper()
	ks := fmt.Sprintf("st_%d", time.Now().UnixNano())
	cqlExec(t, s, "CREATE KEYSPACE "+ks+" WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}")
	t.Cleanup(func() { s.Query("DROP KEYSPACE IF EXISTS " + ks).Exec() })
	return ks
}

func cqlExec(t *testing.T, s *gocql.Session, cql string, vals ...interface{}) {
	t.Helper()
	if err := s.Query(cql, vals...).Exec(); err != nil {
		t.Fatalf("%s: %v", cql, err)
	}
}

// tableNameOK is what Cassandra accepts as a table name.
var tableNameOK = regexp.MustCompile(`^[A-Za-z0-9_]{1,48}$`).MatchString

// TestConformance runs the sources suite against the three-node cluster:
// one table (name blob PRIMARY KEY, label text, data blob) per object in
// a fresh RF=3 keyspace, one row per item; label is the name where it is
// UTF-8 (text must be), so that hostile names reach the statements.
func TestConformance(t *testing.T) {
	s, hosts := testSession(t)
	sourcetest.Run(t, sourcetest.Harness{
		Setup: func(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
			return setupTables(t, s, hosts, specs)
		},
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			cqlExec(t, s, fmt.Sprintf("UPDATE %s SET data = ? WHERE name = ?", qualified(obj.Database, obj.Table)), item.Data, []byte(item.Name))
		},
		NameOK: tableNameOK,
		Reuses: true,
	})
}

// setupTables creates one table per spec, fills it, and returns a source
// limited to the keyspace with the tables it discovers there.
func setupTables(t *testing.T, s *gocql.Session, hosts []string, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	ks := newKeyspace(t, s)
	for _, spec := range specs {
		q := qualified(ks, spec.Name)
		cqlExec(t, s, "CREATE TABLE "+q+" (name blob PRIMARY KEY, label text, data blob)")
		insertItems(t, s, q, spec.Items)
	}
	src, err := New(Config{Cluster: "st", Hosts: hosts, Keyspaces: []string{ks}})
	if err != nil {
		t.Fatal(err)
	}
	found, err := src.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		for _, o := range found {
			if o.Table == spec.Name {
				objs[i] = o
			}
		}
		if objs[i].Table == "" {
			t.Fatalf("table %q not discovered: %v", spec.Name, found)
		}
	}
	return src, objs
}

// insertItems writes rows 16 at a time.
func insertItems(t *testing.T, s *gocql.Session, q string, items []sourcetest.Item) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(items))
	sem := make(chan struct{}, 16)
	for _, it := range items {
		wg.Add(1)
		sem <- struct{}{}
		go func(it sourcetest.Item) {
			defer wg.Done()
			defer func() { <-sem }()
			label := strings.ToValidUTF8(it.Name, "?")
			if err := s.Query("INSERT INTO "+q+" (name, label, data) VALUES (?, ?, ?)", []byte(it.Name), label, it.Data).Exec(); err != nil {
				errs <- err
			}
		}(it)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatalf("insert into %s: %v", q, err)
	}
}

// TestBadInput checks that an unknown keyspace or table and an
// unreachable cluster each fail with an error naming them.
func TestBadInput(t *testing.T) {
	_, hosts := testSession(t)
	ctx := context.Background()
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Cluster: "c", Hosts: hosts, Keyspaces: []string{"no_such_ks"}}, `keyspace "no_such_ks" does not exist`},
		{Config{Cluster: "c", Hosts: hosts, Keyspaces: []string{"system_auth"}, Tables: []string{"system_auth.nope"}}, `table "system_auth.nope" does not exist`},
		{Config{Cluster: "c", Hosts: []string{"127.0.0.9:9"}, Timeout: 2 * time.Second}, "127.0.0.9:9"},
	} {
		src, err := New(tc.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = src.Discover(ctx)
		src.Close()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Discover with %+v: %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
	src, _ := New(Config{Cluster: "c", Hosts: hosts})
	defer src.Close()
	_, err := src.Backup(ctx, sources.Object{Cluster: "c", Database: "system_auth", Table: "nope"}, sources.NoPrevious{}, sourcetest.NewWriter(nil))
	if err == nil || !strings.Contains(err.Error(), "system_auth.nope") {
		t.Errorf("Backup of a missing table: %v", err)
	}
}
