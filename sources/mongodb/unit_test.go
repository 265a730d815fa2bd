package mongodb

import (
	"bytes"
	"context"
	"io"
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/stratabackup/strata/sources/sourcetest"
)

func rv(t *testing.T, v interface{}) bson.RawValue {
	t.Helper()
	b, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		t.Fatal(err)
	}
	return bson.Raw(b).Lookup("v")
}

func TestCompareValues(t *testing.T) {
	oid1, _ := primitive.ObjectIDFromHex("000000000000000000000001")
	oid2, _ := primitive.ObjectIDFromHex("000000000000000000000002")
	dec, _ := primitive.ParseDecimal128("2.5")
	cases := []struct {
		name string
		a, b interface{}
		want int
	}{
		{"int32 < int64", int32(1), int64(2), -1},
		{"int equals double", int32(2), 2.0, 0},
		{"double < decimal", 2.25, dec, -1},
		{"NaN below numbers", math.NaN(), -1e300, -1},
		{"number < string", int64(99), "a", -1},
		{"string bytes", "ab", "b", -1},
		{"string prefix", "a", "ab", -1},
		{"string < objectid", "zzz", oid1, -1},
		{"objectids", oid1, oid2, -1},
		{"null < number", nil, int32(0), -1},
		{"doc field order", bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "b", Value: 0}}, -1},
		{"binary by length first", primitive.Binary{Data: []byte{9}}, primitive.Binary{Data: []byte{0, 0}}, -1},
		{"dates", primitive.DateTime(-5), primitive.DateTime(3), -1},
		{"bool", false, true, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := rv(t, tc.a), rv(t, tc.b)
			if got := compareValues(a, b); got != tc.want {
				t.Errorf("compare(%v, %v) = %d, want %d", a, b, got, tc.want)
			}
			if got := compareValues(b, a); got != -tc.want {
				t.Errorf("compare(%v, %v) = %d, want %d", b, a, got, -tc.want)
			}
		})
	}
}

func TestMarshalMetadataMatchesMongodump(t *testing.T) {
	ix, _ := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "b", Value: int32(1)}, {Key: "a", Value: int32(-1)}}}, {Key: "name", Value: "b_1_a_-1"}, {Key: "unique", Value: true}})
	opts, _ := bson.Marshal(bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int64(4096)}})
	c := collInfo{Name: "orders", Type: "collection", Options: opts}
	c.Info.UUID = primitive.Binary{Subtype: 4, Data: bytes.Repeat([]byte{0xab}, 16)}
	got, err := marshalMetadata(c, []bson.Raw{ix})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"options":{"capped":true,"size":{"$numberLong":"4096"}},` +
		`"indexes":[{"v":{"$numberInt":"2"},"key":{"b":{"$numberInt":"1"},"a":{"$numberInt":"-1"}},"name":"b_1_a_-1","unique":true}],` +
		`"uuid":"abababababababababababababababab","collectionName":"orders","type":"collection"}`
	if string(got) != want {
		t.Errorf("metadata.json\n got %s\nwant %s", got, want)
	}
	m, err := parseMetadata(got)
	if err != nil {
		t.Fatal(err)
	}
	if m.CollectionName != "orders" || len(m.Indexes) != 1 || m.Indexes[0].Lookup("name").StringValue() != "b_1_a_-1" {
		t.Errorf("parsed back %+v", m)
	}
	empty, _ := marshalMetadata(collInfo{Name: "e", Options: bson.Raw{5, 0, 0, 0, 0}}, nil)
	if string(empty) != `{"indexes":[],"collectionName":"e"}` {
		t.Errorf("empty metadata %s", empty)
	}
}

func TestRedactURI(t *testing.T) {
	cases := map[string]string{
		"mongodb://user:secret@db1:27017/admin?authSource=admin":        "mongodb://db1:27017/admin",
		"mongodb://user:secret@db1:27017,db2:27017/?replicaSet=rs0":     "mongodb://db1:27017,db2:27017/",
		"mongodb+srv://u:p%40ss@cluster0.example.net/?retryWrites=true": "mongodb+srv://cluster0.example.net/",
		"mongodb://127.0.0.1:27017/":                                    "mongodb://127.0.0.1:27017/",
		// Malformed: unescaped '/', '@', ':', '?' in the password; a
		// URL parser reads some of them as host, port or path.
		"mongodb://u:SEC/RET@127.0.0.1:1/":                    "mongodb://127.0.0.1:1/",
		"mongodb://u:123/RET@127.0.0.1:1/":                    "mongodb://127.0.0.1:1/",
		"mongodb://u:SEC@RET@127.0.0.1:1/":                    "mongodb://127.0.0.1:1/",
		"mongodb://u:SEC:RET@127.0.0.1:1/":                    "mongodb://127.0.0.1:1/",
		"mongodb://u:SEC?RET@127.0.0.1:1/":                    "mongodb://127.0.0.1:1/",
		"mongodb://u:SEC/R?E@T:RET@db1,db2/a?x=1":             "mongodb://db1,db2/a",
		"mongodb://u:SEC%zzRET@db1:27017/":                    "mongodb://db1:27017/",
		"mongodb+srv://u:SEC/RET@cluster0.example/":           "mongodb+srv://cluster0.example/",
		"mongodb://db1/?tlsCertificateKeyFilePassword=SECRET": "mongodb://db1/",
		"mongodb//u:SECRET@db1/":                              "mongodb://<redacted>",
		"u:SECRET@db1":                                        "mongodb://<redacted>",
		"u:SEC://RET@db1":                                     "mongodb://<redacted>",
	}
	for in, want := range cases {
		got := RedactURI(in)
		if got != want || strings.Contains(strings.ToLower(got), "secret") || strings.Contains(got, "SEC") {
			t.Errorf("RedactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDocReader(t *testing.T) {
	a, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}})
	b, _ := bson.Marshal(bson.D{{Key: "_id", Value: "x"}, {Key: "y", Value: bson.A{1, 2}}})
	stream := append(append([]byte{}, a...), b...)
	r := newDocReader(bytes.NewReader(stream))
	for i, want := range [][]byte{a, b} {
		got, err := r.next()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("doc %d: %v %v", i, got, err)
		}
	}
	if _, err := r.next(); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
	r = newDocReader(bytes.NewReader(stream[:len(stream)-3]))
	r.next()
	if _, err := r.next(); err == nil || err == io.EOF {
		t.Fatalf("truncated stream: %v, want an error", err)
	}
}

func TestRangesFromSample(t *testing.T) {
	var ids []bson.RawValue
	for i := 99; i >= 0; i-- {
		ids = append(ids, rv(t, int32(i)))
	}
	rs := rangesFromSample(ids, 4)
	if len(rs) != 4 || rs[0].lo != nil || rs[3].hi != nil {
		t.Fatalf("ranges %v", rs)
	}
	for i := 1; i < len(rs); i++ {
		if compareValues(*rs[i-1].hi, *rs[i].lo) != 0 {
			t.Errorf("range %d does not start where %d ends", i, i-1)
		}
	}
	if got := rs[1].filter(); len(got) != 1 || got[0].Key != "_id" {
		t.Errorf("filter %v", got)
	}
}

// bsonFile concatenates documents given as bson.D.
func bsonFile(t *testing.T, docs ...bson.D) []byte {
	t.Helper()
	var out []byte
	for _, d := range docs {
		b, err := bson.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b...)
	}
	return out
}

func TestDiff(t *testing.T) {
	doc := func(id interface{}, v string) bson.D { return bson.D{{Key: "_id", Value: id}, {Key: "v", Value: v}} }
	meta := []byte(`{"indexes":[],"collectionName":"c","type":"collection"}`)
	cases := []struct {
		name     string
		from, to []bson.D
		changed  []bson.D
		deleted  string
	}{
		{"update insert delete",
			[]bson.D{doc(1, "a"), doc(2, "b"), doc(3, "c"), doc(5, "e")},
			[]bson.D{doc(1, "a"), doc(2, "B"), doc(4, "d"), doc(5, "e"), doc(6, "f")},
			[]bson.D{doc(2, "B"), doc(4, "d"), doc(6, "f")},
			`[{"$numberInt":"3"}]`},
		{"unsorted falls back to hashing",
			[]bson.D{doc("b", "1"), doc("a", "2"), doc("c", "3")},
			[]bson.D{doc("c", "3"), doc("a", "x")},
			[]bson.D{doc("a", "x")},
			`["b"]`},
		{"everything deleted",
			[]bson.D{doc(1, "a")}, nil, nil, `[{"$numberInt":"1"}]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			from := versionOf(t, map[string][]byte{"c.bson": bsonFile(t, tc.from...), "c.metadata.json": meta})
			to := versionOf(t, map[string][]byte{"c.bson": bsonFile(t, tc.to...), "c.metadata.json": meta})
			s := &Source{}
			w := sourcetest.NewWriter(nil)
			if err := s.Diff(context.Background(), from, to, w); err != nil {
				t.Fatal(err)
			}
			if got, want := w.Data("c.bson"), bsonFile(t, tc.changed...); !bytes.Equal(got, want) {
				t.Errorf("changed documents differ: got %d bytes, want %d", len(got), len(want))
			}
			if got := string(w.Data("c.deleted.json")); got != tc.deleted {
				t.Errorf("deleted.json %s, want %s", got, tc.deleted)
			}
			if !bytes.Equal(w.Data("c.metadata.json"), meta) {
				t.Error("metadata.json not copied from the newer version")
			}
			ids, err := parseIDs(w.Data("c.deleted.json"))
			if err != nil || len(ids) != strings.Count(tc.deleted, ",")+1 {
				t.Errorf("parse deleted.json: %v %v", ids, err)
			}
		})
	}
}

// TestBadURIErrorHidesPassword checks the error of a connection string
// that fails to parse: it must not carry the password, whatever
// unescaped character broke the parse.
func TestBadURIErrorHidesPassword(t *testing.T) {
	for _, uri := range []string{
		"mongodb://u:SEC/RET@127.0.0.1:1/",
		"mongodb://u:SEC@RET@127.0.0.1:1/",
		"mongodb://u:SEC:RET@127.0.0.1:1/",
		"mongodb://u:SEC?RET@127.0.0.1:1/",
		"mongodb://u:SEC%zzRET@127.0.0.1:1/",
		"mongodb://u:SEC/RET@127.0.0.1:1/?replicaSet=rs0&bogus=x",
		"mongodb//u:SECRET@127.0.0.1:1/",
	} {
		s, err := New(Config{URI: uri, Cluster: "c"})
		if err == nil {
			s.Close()
			continue // the driver accepted it: nothing printed
		}
		if msg := err.Error(); strings.Contains(msg, "SEC") || strings.Contains(msg, "RET") {
			t.Errorf("New(%q): error shows the password: %s", uri, msg)
		}
	}
}
