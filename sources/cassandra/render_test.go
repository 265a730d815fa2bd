package cassandra

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
)

// oneColumn is table t (k int, v TYPE, PRIMARY KEY (k)) with the user
// type addr (street text, "Zip" int) defined.
func oneColumn(typ string) *table {
	types := map[string]userType{"addr": {Name: "addr", Fields: []string{"street", "Zip"}, Types: []string{"text", "int"}}}
	t := &table{Keyspace: "ks", Name: "t", Types: types}
	t.add(column{Name: "k", Kind: kindPartition, Type: "int"})
	c := column{Name: "v", Kind: kindRegular, Type: typ}
	c.Multi, c.Fields = multiCell(typ, types)
	t.Counter = typ == "counter"
	t.add(c)
	return t
}

// TestRenderTypes renders a row of each CQL type from the JSON toJson()
// gives for it, checks the statement, and reads it back as the loader
// and the differ do: the same keys, cells and timestamps.
func TestRenderTypes(t *testing.T) {
	const ts = int64(1732000000123456)
	cases := []struct {
		typ   string
		cells []cell // Value as toJson renders it (per element for collections)
		want  string
	}{
		{"text", []cell{{Value: `"it's a \"test\"\n"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"it''s a \"test\"\n"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"ascii", []cell{{Value: `"abc"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"abc"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"varchar", []cell{{Value: `"ünïcødé ☃"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"ünïcødé ☃"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"blob", []cell{{Value: `"0xcafe00"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"0xcafe00"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"boolean", []cell{{Value: `true`}}, `INSERT INTO ks.t JSON '{"k":1,"v":true}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"inet", []cell{{Value: `"::1"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"::1"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"uuid", []cell{{Value: `"5132b130-ae79-11e4-ab27-0800200c9a66"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"5132b130-ae79-11e4-ab27-0800200c9a66"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"timeuuid", []cell{{Value: `"50554d6e-29bb-11e5-b345-feff819cdc9f"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"50554d6e-29bb-11e5-b345-feff819cdc9f"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"varint", []cell{{Value: `-123456789012345678901234567890`}}, `INSERT INTO ks.t JSON '{"k":1,"v":-123456789012345678901234567890}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"decimal", []cell{{Value: `1.2345678901234567890123456789E+40`}}, `INSERT INTO ks.t JSON '{"k":1,"v":1.2345678901234567890123456789E+40}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"double", []cell{{Value: `-1.0E-300`}}, `INSERT INTO ks.t JSON '{"k":1,"v":-1.0E-300}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"float", []cell{{Value: `"NaN"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"NaN"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"duration", []cell{{Value: `"1mo2d3h4m5s6ms7us8ns"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"1mo2d3h4m5s6ms7us8ns"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"date", []cell{{Value: `"-0001-01-01"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"-0001-01-01"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"time", []cell{{Value: `"23:59:59.999999999"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"23:59:59.999999999"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"timestamp", []cell{{Value: `"2024-02-29 12:00:00.123Z"`}}, `INSERT INTO ks.t JSON '{"k":1,"v":"2024-02-29 12:00:00.123Z"}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"frozen<tuple<int, text, blob>>", []cell{{Value: `[1, "a'b", null]`}}, `INSERT INTO ks.t JSON '{"k":1,"v":[1, "a''b", null]}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"vector<float, 3>", []cell{{Value: `[1.5, -2.0, 3.25]`}}, `INSERT INTO ks.t JSON '{"k":1,"v":[1.5, -2.0, 3.25]}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"frozen<list<int>>", []cell{{Value: `[3, 1, 2]`, TTL: 60}}, `INSERT INTO ks.t JSON '{"k":1,"v":[3, 1, 2]}' DEFAULT UNSET USING TIMESTAMP 1732000000123456 AND TTL 60;`},
		{"frozen<map<text, frozen<set<int>>>>", []cell{{Value: `{"a": [1, 2]}`}}, `INSERT INTO ks.t JSON '{"k":1,"v":{"a": [1, 2]}}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"frozen<addr>", []cell{{Value: `{"street": "x", "\"Zip\"": 5}`}}, `INSERT INTO ks.t JSON '{"k":1,"v":{"street": "x", "\"Zip\"": 5}}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;`},
		{"set<text>", []cell{{Value: `"a"`}, {Value: `"b"`}}, "INSERT INTO ks.t JSON '{\"k\":1}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;\n" +
			`UPDATE ks.t USING TIMESTAMP 1732000000123456 SET v = v + fromJson('["a","b"]') WHERE k = fromJson('1');`},
		{"list<bigint>", []cell{{Value: `7`}, {Value: `-7`}}, "INSERT INTO ks.t JSON '{\"k\":1}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;\n" +
			`UPDATE ks.t USING TIMESTAMP 1732000000123456 SET v = v + fromJson('[7,-7]') WHERE k = fromJson('1');`},
		{"map<int, text>", []cell{{Key: `"1"`, Value: `"one"`}}, "INSERT INTO ks.t JSON '{\"k\":1}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;\n" +
			`UPDATE ks.t USING TIMESTAMP 1732000000123456 SET v = v + fromJson('{"1":"one"}') WHERE k = fromJson('1');`},
		{"addr", []cell{{Field: "street", Value: `"main"`}, {Field: "Zip", Value: `12`}}, "INSERT INTO ks.t JSON '{\"k\":1}' DEFAULT UNSET USING TIMESTAMP 1732000000123456;\n" +
			`UPDATE ks.t USING TIMESTAMP 1732000000123456 SET v.street = fromJson('"main"'), v."Zip" = fromJson('12') WHERE k = fromJson('1');`},
		{"counter", []cell{{Value: `-42`}}, `UPDATE ks.t SET v = v + -42 WHERE k = fromJson('1');`},
	}
	for _, tc := range cases {
		t.Run(tc.typ, func(t *testing.T) {
			tb := oneColumn(tc.typ)
			cells := append([]cell(nil), tc.cells...)
			for i := range cells {
				if !tb.Counter {
					cells[i].TS = ts
				}
			}
			keys := []keyCol{{Name: "k", JSON: "1"}}
			got := strings.TrimSuffix(string(tb.writeRow(nil, keys, cells)), "\n")
			if got != tc.want {
				t.Fatalf("statements:\n%s\nwant:\n%s", got, tc.want)
			}
			checkReadBack(t, tb, got, keys, cells)
		})
	}
}

// checkReadBack parses statements as the differ does and compares keys
// and cells.
func checkReadBack(t *testing.T, tb *table, text string, keys []keyCol, cells []cell) {
	t.Helper()
	pr := &partRows{t: tb, index: map[string]*drow{}}
	for _, line := range strings.Split(text, "\n") {
		if err := pr.addLine([]byte(line + "\n")); err != nil {
			t.Fatalf("read back %q: %v", line, err)
		}
	}
	if len(pr.rows) != 1 {
		t.Fatalf("read back %d rows, want 1", len(pr.rows))
	}
	r := pr.rows[0]
	if !reflect.DeepEqual(r.keys, keys) {
		t.Errorf("keys %v, want %v", r.keys, keys)
	}
	if !reflect.DeepEqual(r.cells, cells) {
		t.Errorf("cells %+v, want %+v", r.cells, cells)
	}
}

// TestRenderGroups writes cells of three write times and TTLs: one
// statement per group, oldest first, and the static cells apart.
func TestRenderGroups(t *testing.T) {
	tb := &table{Keyspace: "Ks", Name: "select", Types: map[string]userType{}}
	tb.add(column{Name: "p", Kind: kindPartition, Type: "text"})
	tb.add(column{Name: "C", Kind: kindClustering, Type: "int"})
	tb.add(column{Name: "a", Kind: kindRegular, Type: "int"})
	tb.add(column{Name: "b", Kind: kindRegular, Type: "int"})
	keys := []keyCol{{Name: "p", JSON: `"x"`}, {Name: "C", JSON: "2"}}
	cells := []cell{{Col: 0, Value: "1", TS: 20}, {Col: 1, Value: "2", TS: 10, TTL: 5}, {Col: 1, Value: "3", TS: 20, TTL: 9}}
	got := string(tb.writeRow(nil, keys, cells))
	want := `INSERT INTO "Ks"."select" JSON '{"p":"x","\"C\"":2,"b":2}' DEFAULT UNSET USING TIMESTAMP 10 AND TTL 5;
INSERT INTO "Ks"."select" JSON '{"p":"x","\"C\"":2,"a":1}' DEFAULT UNSET USING TIMESTAMP 20;
INSERT INTO "Ks"."select" JSON '{"p":"x","\"C\"":2,"b":3}' DEFAULT UNSET USING TIMESTAMP 20 AND TTL 9;
`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	st, err := parseStmt(strings.Split(got, "\n")[0])
	if err != nil || st.Table != `"Ks"."select"` || st.TS != 10 || st.TTL != 5 {
		t.Fatalf("parse: %+v, %v", st, err)
	}
}

func TestIdent(t *testing.T) {
	for in, want := range map[string]string{"abc": "abc", "Abc": `"Abc"`, "a b": `"a b"`, `q"q`: `"q""q"`, "select": `"select"`, "_x": `"_x"`, "x1_": "x1_"} {
		if got := cqlIdent(in); got != want {
			t.Errorf("cqlIdent(%q) = %s, want %s", in, got, want)
		}
	}
	if got := jsonString("a\u2028\x01\"\\"); got != `"a\u2028\u0001\"\\"` {
		t.Errorf("jsonString: %s", got)
	}
}

// TestNativeJSON renders natively read values as toJson does.
func TestNativeJSON(t *testing.T) {
	i := int64(-42)
	s := "a\"b\n☃"
	f := 0.1
	nan := math.NaN()
	u, _ := gocql.ParseUUID("5132b130-ae79-11e4-ab27-0800200c9a66")
	ts := time.Date(2024, 1, 2, 3, 4, 5, 678e6, time.UTC)
	far := time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)
	pi, ps, pf, pn, pu, pt, pfar := &i, &s, &f, &nan, &u, &ts, &far
	blob := []byte{0xca, 0xfe}
	for _, tc := range []struct {
		dest interface{}
		want string
	}{
		{&pi, "-42"}, {&ps, `"a\"b\n☃"`}, {&pf, "0.1"}, {&pn, `"NaN"`}, {&pu, `"5132b130-ae79-11e4-ab27-0800200c9a66"`},
		{&pt, `"2024-01-02 03:04:05.678Z"`}, {&pfar, "316516204800000"}, {&blob, `"0xcafe"`}, {new(*int64), "null"},
	} {
		if got := nativeJSON(tc.dest); got != tc.want {
			t.Errorf("nativeJSON(%T) = %s, want %s", tc.dest, got, tc.want)
		}
	}
}
