package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// createTypes makes the table of every type: rows written by INSERT JSON,
// then cells added at other write times and with TTLs, then deletes of a
// row, cells, set elements and a UDT field.
func createTypes(t *testing.T, s *gocql.Session, ks string) {
	t.Helper()
	for _, st := range []string{
		`CREATE TYPE %[1]s.addr (street text, "Zip" int, tags frozen<set<text>>)`,
		`CREATE TYPE %[1]s.person (name text, home frozen<addr>, nums frozen<list<int>>)`,
		`CREATE TABLE %[1]s.types (p1 int, p2 text, c1 timeuuid, c2 int,
			s_txt text static, s_set set<int> static,
			t_ascii ascii, t_bigint bigint, t_blob blob, t_bool boolean, t_date date, t_dec decimal, t_double double,
			t_dur duration, t_float float, t_inet inet, t_int int, t_small smallint, t_text text, t_time time,
			t_ts timestamp, t_tuuid timeuuid, t_tiny tinyint, t_uuid uuid, t_varchar varchar, t_varint varint,
			t_tuple tuple<int, text, frozen<list<blob>>>, t_vec vector<float, 4>,
			f_list frozen<list<text>>, f_set frozen<set<inet>>, f_map frozen<map<int, frozen<addr>>>, f_udt frozen<person>,
			n_list list<bigint>, n_set set<uuid>, n_map map<text, date>, n_udt addr, "Quoted Col" text,
			PRIMARY KEY ((p1, p2), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)`,
		`CREATE INDEX types_by_int ON %[1]s.types (t_int)`,
	} {
		cql(t, s, fmt.Sprintf(st, ks))
	}
	r := rand.New(rand.NewPCG(3, 4))
	var keys [][4]interface{}
	for i := range 40 {
		k := [4]interface{}{i % 8, fmt.Sprintf("p'%d\"é", i%3), gocql.TimeUUID().String(), i}
		keys = append(keys, k)
		cql(t, s, "INSERT INTO "+ks+".types JSON ? USING TIMESTAMP ?", typesRow(r, k), time.Now().UnixMicro()-int64(1000*i))
	}
	for i, k := range keys[:20] {
		where := " WHERE p1 = ? AND p2 = ? AND c1 = ? AND c2 = ?"
		ttl := 3600 + i
		cql(t, s, fmt.Sprintf("UPDATE %s.types USING TTL %d SET t_text = 'ttl''d', n_map['later'] = '2030-01-01', n_udt.street = 'moved' %s", ks, ttl, where), k[:]...)
		cql(t, s, "UPDATE "+ks+".types USING TIMESTAMP ? SET n_list = n_list + [99], n_set = n_set + {"+gocql.TimeUUID().String()+"}"+where,
			append([]interface{}{time.Now().UnixMicro() + int64(i)}, k[:]...)...)
	}
	cql(t, s, "UPDATE "+ks+".types USING TTL 7200 SET s_txt = 'static ttl', s_set = s_set + {7} WHERE p1 = 1 AND p2 = ?", keys[1][1])
	cql(t, s, "UPDATE "+ks+".types SET s_txt = 'only static' WHERE p1 = 99 AND p2 = 'x'")
	cql(t, s, "DELETE FROM "+ks+".types WHERE p1 = ? AND p2 = ? AND c1 = ? AND c2 = ?", keys[5][:]...)
	cql(t, s, "DELETE t_blob, n_udt.\"Zip\" FROM "+ks+".types WHERE p1 = ? AND p2 = ? AND c1 = ? AND c2 = ?", keys[6][:]...)
	cql(t, s, "UPDATE "+ks+".types SET n_map = n_map - {'a'}, f_list = null WHERE p1 = ? AND p2 = ? AND c1 = ? AND c2 = ?", keys[7][:]...)
}

// typesRow is one row of types as INSERT JSON takes it.
func typesRow(r *rand.Rand, k [4]interface{}) string {
	blob := func() string { return fmt.Sprintf("0x%016x", r.Uint64()) }
	v := map[string]string{
		"p1": fmt.Sprint(k[0]), "p2": jsonQuote(k[1].(string)), "c1": jsonQuote(k[2].(string)), "c2": fmt.Sprint(k[3]),
		"s_txt": jsonQuote("static of " + k[1].(string)), "s_set": "[1, 2, 3]",
		"t_ascii": `"ascii!"`, "t_bigint": fmt.Sprint(int64(r.Uint64())), "t_blob": jsonQuote(blob()), "t_bool": "true",
		"t_date": `"2024-02-29"`, "t_dec": "-12345678901234567890.123456789", "t_double": "1.0E-300", "t_dur": `"1mo2d3h4m5s6ms7us8ns"`,
		"t_float": "3.5", "t_inet": `"::1"`, "t_int": fmt.Sprint(int32(r.Uint32())), "t_small": "-32768", "t_tiny": "127",
		"t_text": jsonQuote("line 1\nline 2 'quoted' \"dq\" \\ ünïcødé ☃ \u2028"), "t_time": `"23:59:59.999999999"`,
		"t_ts": `"2024-01-02 03:04:05.678Z"`, "t_tuuid": jsonQuote(gocql.TimeUUID().String()), "t_uuid": `"5132b130-ae79-11e4-ab27-0800200c9a66"`,
		"t_varchar": `"v"`, "t_varint": "-123456789012345678901234567890", "t_tuple": `[7, "x", ["0x01", "0x"]]`, "t_vec": "[1.5, -2.25, 0, 1e10]",
		"f_list": `["a", "b", "a"]`, "f_set": `["10.0.0.1", "::ffff:1.2.3.4"]`,
		"f_map": `{"1": {"street": "s", "\"Zip\"": 5, "tags": ["x"]}}`, "f_udt": `{"name": "bob", "home": {"street": "h"}, "nums": [3, 2, 1]}`,
		"n_list": "[1, 2, 3]", "n_set": `[` + jsonQuote(gocql.TimeUUID().String()) + `]`, "n_map": `{"a": "2020-01-01", "b": "1970-01-01"}`,
		"n_udt": `{"street": "main", "\"Zip\"": 12345, "tags": ["t1", "t2"]}`, "\"Quoted Col\"": `"q"`,
	}
	var parts []string
	for name, val := range v {
		parts = append(parts, jsonQuote(name)+": "+val)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func jsonQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\u2028", `\u2028`)
	return `"` + r.Replace(s) + `"`
}

// nodeDownBackup backs up big slowly (one request per node, small pages)
// into a store of its own and stops node 3 meanwhile: the backup must
// complete from the other replicas and its manifest name the node.
func nodeDownBackup(t *testing.T, ks string) {
	e := newEnv(t)
	b := e.start("--json", "backup", "cassandra", "--cluster", "it", "--hosts", cassHosts, "--only", ks+"/big",
		"--parallelism", "1", "--page-size", "200")
	time.Sleep(2 * time.Second)
	harness.StopCassandraNode(t, 3)
	defer harness.StartCassandraNode(t, 3)
	r := b.wait()
	if r.code != 0 {
		t.Fatalf("backup with node 3 stopped midway failed:\n%s", r)
	}
	v := parseBackups(t, r)["big"]
	t.Logf("nodes_down %q, ranges moved: %.300s", v.Meta["nodes_down"], v.Meta["ranges_moved"])
	if !strings.Contains(v.Meta["nodes_down"], "127.0.0.3") {
		t.Errorf("manifest's nodes_down = %q, want 127.0.0.3 (warnings %v)", v.Meta["nodes_down"], v.Warnings)
	}
	if v.Meta["rows"] != fmt.Sprint(bigRows) {
		t.Errorf("backup with a node down holds %s rows, want %d", v.Meta["rows"], bigRows)
	}
}

// secondBackup updates 5% of big (and deletes some rows and cells), backs
// up again, checks what that added, and replays the @diff over base, a
// restore of the first version.
// loadInto is a keyspace where the first version was restored, and the
// restore flags that loaded it.
type loadInto struct {
	ks   string
	args []string
}

func secondBackup(t *testing.T, e *env, src, dst *gocql.Session, target, ks string, bases []loadInto, first map[string]index.Version) {
	r := rand.New(rand.NewPCG(5, 6))
	upd := r.Perm(bigRows)[:bigRows/20]
	vals := make([]string, len(upd))
	for i := range vals {
		vals[i] = "updated " + randText(r)
	}
	parallel(t, len(upd), 32, func(i int) error {
		k := upd[i]
		return src.Query("UPDATE "+ks+".big SET v = ? WHERE k = ? AND c = ?", vals[i], k/10, k%10).Exec()
	})
	for k := range 50 {
		cql(t, src, "DELETE FROM "+ks+".big WHERE k = ? AND c = ?", k, 3)
	}
	cql(t, src, "DELETE v FROM "+ks+".big WHERE k = 77 AND c = 1")
	cql(t, src, "DELETE FROM "+ks+".big WHERE k = 78")
	time.Sleep(time.Second) // a new version second
	before := storeBytes(t, e.store)
	second := parseBackups(t, e.ok("--json", "backup", "cassandra", "--cluster", "it", "--hosts", cassHosts, "--only", ks+"/big"))["big"]
	added := storeBytes(t, e.store) - before
	f := first["big"]
	t.Logf("big: first version stored %d bytes; after updating 5%% the second added %d to the store (%.1f%%), %d of it new chunks; %s statements reused",
		f.Stats.StoredBytes, added, 100*float64(added)/float64(f.Stats.StoredBytes), second.Stats.NewBytes, second.Meta["statements_reused"])
	if float64(added) > 0.10*float64(f.Stats.StoredBytes) {
		t.Errorf("second backup added %d bytes, more than 10%% of the first version's %d", added, f.Stats.StoredBytes)
	}
	for _, b := range bases {
		diffReplay(t, e, src, dst, target, ks, b, f, second)
	}
}

// diffReplay loads the @diff of the two versions over base, the target
// keyspace where the first version was restored (restore --to-cassandra,
// checked then against the source), with base's flags, and compares with
// the source (which has not changed since the second backup).
func diffReplay(t *testing.T, e *env, src, dst *gocql.Session, target, ks string, base loadInto, v1, v2 index.Version) {
	t.Helper()
	mp := e.mount()
	ddir := mp + "/" + v2.Object.Cluster + "/" + v2.Object.Database + "/big/@diff/" + index.TimeName(v1.Time) + ".." + index.TimeName(v2.Time)
	parts := dataParts(t, ddir)
	var lines, deletes int
	for _, p := range parts {
		text := string(readFile(t, p))
		lines += strings.Count(text, "\n")
		deletes += strings.Count(text, "\nDELETE ")
	}
	t.Logf("@diff: %d parts, %d lines, %d deletes", len(parts), lines, deletes)
	if deletes < 52 || lines > bigRows/20+200 {
		t.Errorf("@diff holds %d lines and %d deletes, want about %d updates and 52 deletes", lines, deletes, bigRows/20)
	}
	spec2 := v2.Object.String() + "/" + index.TimeName(v1.Time) + ".." + index.TimeName(v2.Time)
	e.ok(append(append([]string{"restore", "--to-cassandra", target, "--db", base.ks}, base.args...), spec2)...)
	compareTables(t, src, ks, dst, base.ks, "big", 5)
}
