package cassandra

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

func TestBulkArgs(t *testing.T) {
	tb := &table{Keyspace: "ks_r", Name: "Rows"}
	ddl := []string{
		"CREATE KEYSPACE IF NOT EXISTS ks_r WITH replication = {'class':'SimpleStrategy','replication_factor':1}",
		"CREATE TYPE IF NOT EXISTS ks_r.addr (street text)",
		"CREATE TABLE IF NOT EXISTS ks_r.\"Rows\" (k int PRIMARY KEY, a frozen<addr>)",
		"CREATE INDEX IF NOT EXISTS rows_a ON ks_r.\"Rows\" (a)",
	}
	args, env := bulkArgs(bulkTarget{Hosts: []string{"10.0.0.1:9142", "10.0.0.2:9142"}, User: "admin", Password: "s3cret"}, tb, ddl, "/tmp/x")
	for _, want := range []string{
		"dir=/tmp/x", "keyspace=ks_r", "table=Rows", "hosts=10.0.0.1,10.0.0.2", "port=9142", "user=admin",
		"type=" + ddl[1], "create=" + ddl[2],
		`insert=INSERT INTO ks_r."Rows" JSON ? DEFAULT UNSET USING TIMESTAMP ? AND TTL ?`,
	} {
		if !slices.Contains(args, want) {
			t.Errorf("args lack %q: %q", want, args)
		}
	}
	for _, a := range args {
		if strings.Contains(a, "s3cret") || strings.Contains(a, "INDEX") || strings.Contains(a, "KEYSPACE") {
			t.Errorf("argument %q: the password and statements other than types and the table stay out", a)
		}
	}
	if !slices.Equal(env, []string{"STRATA_BULK_PASSWORD=s3cret"}) {
		t.Errorf("env = %q, want the password there", env)
	}
	args, env = bulkArgs(bulkTarget{Hosts: []string{"h1"}}, tb, ddl, "/tmp/x")
	if len(env) != 0 || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "user=") || strings.HasPrefix(a, "port=") }) {
		t.Errorf("no user, no port: args %q env %q", args, env)
	}
}

func TestCheckJars(t *testing.T) {
	dir := t.TempDir()
	err := checkJars(dir)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "lib/") {
		t.Fatalf("empty dir: %v, want an error naming it", err)
	}
	for _, name := range []string{"cassandra-all-5.0.8.jar", "apache-cassandra-4.1.5.jar"} {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := checkJars(d); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := checkBulk(dir, Config{}); err == nil {
		t.Error("checkBulk passed a directory without jars")
	}
}

func TestTailWriterKeepsTheEnd(t *testing.T) {
	w := &tailWriter{max: 8}
	for _, s := range []string{"abc", "defgh", "ijkl"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.String(); got != "efghijkl" {
		t.Errorf("tail = %q, want efghijkl", got)
	}
}

// TestInsertKeepsRowForBulk: the bulk path sends an INSERT's JSON object
// as written, with its write time; a statement without one stays on CQL.
func TestInsertKeepsRowForBulk(t *testing.T) {
	tb := &table{Keyspace: "ks", Name: "t", Partition: []column{{Name: "k", Type: "int"}}, Regular: []column{{Name: "v", Type: "text"}}}
	l := &load{t: tb, types: map[string]string{"k": "int", "v": "text"}, bulk: &bulkLoad{}}
	st, err := parseStmt(`INSERT INTO ks.t JSON '{"k":1,"v":"it''s"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456 AND TTL 60;`)
	if err != nil {
		t.Fatal(err)
	}
	es, err := l.insert(st)
	if err != nil {
		t.Fatal(err)
	}
	if es.json != `{"k":1,"v":"it's"}` || es.ts != 1732000000123456 || es.ttlAt < 0 {
		t.Errorf("json %q ts %d ttlAt %d", es.json, es.ts, es.ttlAt)
	}
	st.HasTS = false
	if es, _ = l.insert(st); es.json != "" {
		t.Errorf("a statement without a write time went to the bulk path: %q", es.json)
	}
}

func TestBulkSegment(t *testing.T) {
	for _, c := range []struct {
		input, seg, want int64
	}{
		{0, 0, 0}, {1 << 30, 0, 0}, {2 << 30, 0, 0}, {2<<30 + 1, 0, bulkSegmentMiB}, {100 << 30, 0, bulkSegmentMiB},
		{16 << 20, 8 << 20, 0}, {33 << 20, 8 << 20, 8}, {33 << 20, 1000, 1},
	} {
		if got := bulkSegment(c.input, c.seg); got != c.want {
			t.Errorf("bulkSegment(%d, %d) = %d, want %d", c.input, c.seg, got, c.want)
		}
	}
}

// schemaOnly is a version holding only a schema.cql, enough for Load to
// get as far as its checks of the settings.
type schemaOnly struct{}

func (schemaOnly) Info() sources.VersionInfo { return sources.VersionInfo{} }
func (schemaOnly) Entries() []sources.Entry {
	return []sources.Entry{{Path: "schema.cql", Type: sources.TypeFile}}
}
func (schemaOnly) Open(context.Context, string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("CREATE TABLE ks.t (k int PRIMARY KEY, v text);\n")), nil
}

// TestLoadRefusesBadBulkSettings: a bad --sstable-jars or
// --sstable-segment is refused, naming the setting, before any host is
// contacted (the hosts here do not exist).
func TestLoadRefusesBadBulkSettings(t *testing.T) {
	empty := t.TempDir()
	for _, c := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"jars without cassandra", map[string]string{"sstable-jars": empty}, "--sstable-jars " + empty},
		{"segment without jars", map[string]string{"sstable-segment": "64MiB"}, "--sstable-segment applies only with --sstable-jars"},
		{"bad segment", map[string]string{"sstable-jars": empty, "sstable-segment": "lots"}, `bad sstable-segment "lots"`},
		{"tls", map[string]string{"sstable-jars": empty, "tls": "true"}, "cannot stream over TLS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := sources.NewConfig()
			for k, v := range c.set {
				cfg.Set(k, v)
			}
			_, err := Load(context.Background(), "192.0.2.1", schemaOnly{}, sources.LoadOptions{Extra: cfg})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v; want an error containing %q", err, c.want)
			}
		})
	}
}
