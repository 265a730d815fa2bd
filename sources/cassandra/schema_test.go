package cassandra

import (
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// describeOutput is schema.cql as a backup writes it from Cassandra
// 5.0's DESCRIBE.
const describeOutput = `-- strata: schema of x9.t

CREATE KEYSPACE IF NOT EXISTS x9 WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;

CREATE TYPE IF NOT EXISTS x9.addr (
    street text,
    "Zip" int
);

CREATE TYPE IF NOT EXISTS x9.person (
    name text,
    a frozen<addr>
);

CREATE TABLE IF NOT EXISTS x9.t (
    k int,
    c1 text,
    c2 int,
    s text static,
    fu frozen<person>,
    tp frozen<tuple<int, text, blob>>,
    "V" text,
    vec vector<float, 3>,
    l list<int>,
    m map<int, text>,
    st set<text>,
    u addr,
    PRIMARY KEY ((k, c1), c2)
) WITH CLUSTERING ORDER BY (c2 DESC)
    AND comment = 'x9.t; it''s'
    AND compaction = {'class': 'org.apache.cassandra.db.compaction.SizeTieredCompactionStrategy', 'max_threshold': '32'};

CREATE INDEX IF NOT EXISTS tv ON x9.t ("V");

CREATE MATERIALIZED VIEW IF NOT EXISTS x9.mv AS
    SELECT k, c1, c2, "V"
    FROM x9.t
    WHERE k IS NOT NULL AND c1 IS NOT NULL AND c2 IS NOT NULL AND "V" IS NOT NULL
    PRIMARY KEY ("V", k, c1, c2);
`

func TestParseSchema(t *testing.T) {
	sf, err := parseSchema(describeOutput)
	if err != nil {
		t.Fatal(err)
	}
	tb := sf.t
	if tb.Keyspace != "x9" || tb.Name != "t" {
		t.Fatalf("table %s.%s", tb.Keyspace, tb.Name)
	}
	names := func(cs []column) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name+":"+c.Multi)
		}
		return strings.Join(out, ",")
	}
	if got := names(tb.Partition) + "|" + names(tb.Clustering); got != "k:,c1:|c2:" {
		t.Errorf("keys %s", got)
	}
	if !tb.Clustering[0].Desc {
		t.Error("c2 not DESC")
	}
	if got := names(tb.Static) + "|" + names(tb.Regular); got != "s:|V:,fu:,l:list,m:map,st:set,tp:,u:udt,vec:" {
		t.Errorf("cells %s", got)
	}
	if got := tb.typeOrder(); strings.Join(got, ",") != "addr,person" {
		t.Errorf("type order %v", got)
	}
}

func TestRenameSchema(t *testing.T) {
	sf, err := parseSchema(describeOutput)
	if err != nil {
		t.Fatal(err)
	}
	stmts, err := sf.statements(rename{FromKS: "x9", ToKS: "Restored", FromTable: "t", ToTable: "t2",
		Replication: "{'class':'SimpleStrategy','replication_factor':1}"})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(stmts, "\n")
	for _, want := range []string{
		`CREATE KEYSPACE IF NOT EXISTS "Restored" WITH replication = {'class':'SimpleStrategy','replication_factor':1}  AND durable_writes = true`,
		`CREATE TYPE IF NOT EXISTS "Restored".addr (`,
		`CREATE TABLE IF NOT EXISTS "Restored".t2 (`,
		`AND comment = 'x9.t; it''s'`,
		`CREATE INDEX IF NOT EXISTS tv ON "Restored".t2 ("V")`,
		`CREATE MATERIALIZED VIEW IF NOT EXISTS "Restored".mv AS`,
		`FROM "Restored".t2`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("renamed schema lacks %q:\n%s", want, all)
		}
	}
	if len(stmts) != 6 {
		t.Errorf("%d statements, want 6", len(stmts))
	}
}

func TestIfNotExists(t *testing.T) {
	for in, want := range map[string]string{
		"CREATE TABLE ks.t (k int PRIMARY KEY);":            "CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY);",
		"CREATE CUSTOM INDEX i ON ks.t (v) USING 'sai';":    "CREATE CUSTOM INDEX IF NOT EXISTS i ON ks.t (v) USING 'sai';",
		"CREATE MATERIALIZED VIEW ks.v AS SELECT":           "CREATE MATERIALIZED VIEW IF NOT EXISTS ks.v AS SELECT",
		"CREATE KEYSPACE IF NOT EXISTS ks WITH replication": "CREATE KEYSPACE IF NOT EXISTS ks WITH replication",
	} {
		if got := ifNotExists(in); got != want {
			t.Errorf("ifNotExists(%q) = %q", in, got)
		}
	}
}

func TestParseStatements(t *testing.T) {
	for _, line := range []string{
		`DELETE u."Zip", v FROM "K"."T" USING TIMESTAMP 5 WHERE k = fromJson('1') AND c = fromJson('"a''b"');`,
		`UPDATE ks.t USING TIMESTAMP 9 SET s = s - fromJson('["x"]'), m = m - fromJson('["1"]') WHERE k = fromJson('1');`,
		`UPDATE ks.t SET c = c + -5, d = d + 7 WHERE k = fromJson('1');`,
		`INSERT INTO ks.t JSON '{"k":1}' DEFAULT UNSET;`,
	} {
		st, err := parseStmt(line)
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		t.Logf("%+v", st)
	}
	st, _ := parseStmt(`DELETE u."Zip", v FROM "K"."T" USING TIMESTAMP 5 WHERE k = fromJson('1') AND c = fromJson('"a''b"');`)
	if len(st.Cols) != 2 || st.Cols[0] != (colRef{Col: "u", Field: "Zip"}) || st.Where[1].JSON != `"a'b"` || st.TS != 5 {
		t.Errorf("DELETE parsed as %+v", st)
	}
	for _, bad := range []string{"SELECT * FROM t", "INSERT INTO t JSON 'x' garbage", "UPDATE t SET a = 1 WHERE"} {
		if _, err := parseStmt(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestScope(t *testing.T) {
	ks, tables := Scope([]string{"shop/orders", "system_auth/roles", "logs"})
	if strings.Join(ks, ",") != "shop,system_auth,logs" || strings.Join(tables, ",") != "shop.orders,system_auth.roles" {
		t.Errorf("Scope: %v %v", ks, tables)
	}
	if ks, _ := Scope([]string{"shop", "l*"}); ks != nil {
		t.Errorf("a pattern must not limit keyspaces: %v", ks)
	}
}

func TestRegistered(t *testing.T) {
	k, err := sources.LookupKind(Kind)
	if err != nil || k.Loader == nil || k.Differ == nil {
		t.Fatalf("kind %v, %v", k.Name, err)
	}
	cfg := sources.NewConfig()
	cfg.Set("cluster", "c")
	cfg.Set("hosts", "127.0.0.1,127.0.0.2:9043")
	if err := k.Check(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := k.New(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Set("consistency", "sometimes")
	if _, err := k.New(cfg); err == nil || !strings.Contains(err.Error(), "consistency") {
		t.Errorf("bad consistency accepted: %v", err)
	}
}
