package mongodb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// ferretURIs starts the FerretDB pair and returns the source and restore
// target URIs; $STRATA_FERRETDB_URI and $STRATA_FERRETDB_RESTORE_URI, when
// both set, name running servers instead.
func ferretURIs(t *testing.T) (src, dst string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	src, dst = os.Getenv("STRATA_FERRETDB_URI"), os.Getenv("STRATA_FERRETDB_RESTORE_URI")
	if src != "" && dst != "" {
		return src, dst
	}
	harness.Require(t, "ferretdb")
	return "mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27018/"
}

func mustClient(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := connect(uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Disconnect(context.Background()) })
	return c
}

// fixture is a database with the collections the tests back up.
type fixture struct {
	db      string
	src     *mongo.Client
	dst     *mongo.Client
	srcURI  string
	dstURI  string
	maxSize int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srcURI, dstURI := ferretURIs(t)
	f := &fixture{db: fmt.Sprintf("strata_it_%d", time.Now().UnixNano()), srcURI: srcURI, dstURI: dstURI}
	f.src, f.dst = mustClient(t, srcURI), mustClient(t, dstURI)
	t.Cleanup(func() {
		ctx := context.Background()
		f.src.Database(f.db).Drop(ctx)
		f.dst.Database(f.db).Drop(ctx)
	})
	var hello struct {
		MaxBsonObjectSize int `bson:"maxBsonObjectSize"`
	}
	if err := f.src.Database("admin").RunCommand(context.Background(), bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatalf("hello: %v", err)
	}
	f.maxSize = hello.MaxBsonObjectSize
	return f
}

func (f *fixture) insert(t *testing.T, coll string, docs []interface{}) {
	t.Helper()
	ctx := context.Background()
	for len(docs) > 0 {
		n := min(len(docs), 10000)
		if _, err := f.src.Database(f.db).Collection(coll).InsertMany(ctx, docs[:n]); err != nil {
			t.Fatalf("insert into %s: %v", coll, err)
		}
		docs = docs[n:]
	}
}

// mixedDocs covers the BSON types a backup must carry unchanged (no
// Decimal128: FerretDB v1 drops the connection on it).
func mixedDocs() []interface{} {
	var out []interface{}
	for i := 0; i < 200; i++ {
		out = append(out, bson.D{
			{Key: "_id", Value: primitive.NewObjectID()},
			{Key: "email", Value: fmt.Sprintf("user%d@example.com", i)},
			{Key: "a", Value: bson.D{{Key: "b", Value: i % 7}, {Key: "deep", Value: bson.D{{Key: "x", Value: bson.A{1, "two", 3.5}}}}}},
			{Key: "c", Value: int64(i) * 1e12},
			{Key: "bin", Value: primitive.Binary{Subtype: 0, Data: []byte{0, 1, 2, byte(i)}}},
			{Key: "uuid", Value: primitive.Binary{Subtype: 4, Data: bytes.Repeat([]byte{byte(i)}, 16)}},
			{Key: "when", Value: primitive.NewDateTimeFromTime(time.Date(2020, 1, 2, 3, 4, 5, int(i)*1e6, time.UTC))},
			{Key: "arr", Value: bson.A{bson.D{{Key: "k", Value: i}}, nil, true}}, // FerretDB v1: no nested arrays
			{Key: "f", Value: float64(i) / 3},
			{Key: "s", Value: "héllo ✓"},
		})
	}
	return out
}

func smallDocs(n int) []interface{} {
	out := make([]interface{}, n)
	for i := range out {
		out[i] = bson.D{{Key: "_id", Value: primitive.NewObjectID()}, {Key: "i", Value: int32(i)},
			{Key: "name", Value: fmt.Sprintf("item-%06d", i)}, {Key: "tags", Value: bson.A{"a", "b"}}}
	}
	return out
}

func (f *fixture) populate(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	db := f.src.Database(f.db)
	f.insert(t, "mixed", mixedDocs())
	_, err := db.Collection("mixed").Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "a.b", Value: 1}, {Key: "c", Value: -1}}, Options: options.Index().SetName("ab_c")},
		{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetName("email_unique").SetUnique(true)},
	})
	if err != nil {
		t.Fatalf("create indexes: %v", err)
	}
	f.insert(t, "small", smallDocs(100000))
	big := strings.Repeat("x", f.maxSize-1024)
	f.insert(t, "big", []interface{}{bson.D{{Key: "_id", Value: 1}, {Key: "blob", Value: big}}, bson.D{{Key: "_id", Value: 2}, {Key: "v", Value: "tiny"}}})
}

// serverDocs returns a collection's documents in _id order as raw BSON.
func serverDocs(t *testing.T, c *mongo.Client, db, coll string) []bson.Raw {
	t.Helper()
	ctx := context.Background()
	cur, err := c.Database(db).Collection(coll).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatalf("find %s: %v", coll, err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fileDocs parses a .bson file document by document.
func fileDocs(t *testing.T, b []byte) []bson.Raw {
	t.Helper()
	r := newDocReader(bytes.NewReader(b))
	var out []bson.Raw
	for {
		d, err := r.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("document %d: %v", len(out), err)
		}
		out = append(out, append(bson.Raw(nil), d...))
	}
}

func sameDocs(t *testing.T, what string, got, want []bson.Raw) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d documents, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: document %d differs:\n got %s\nwant %s", what, i, trunc(got[i]), trunc(want[i]))
		}
	}
}

func trunc(d bson.Raw) string {
	s := d.String()
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

func backupOne(t *testing.T, s *Source, obj sources.Object) (*sourcetest.Writer, sources.Result) {
	t.Helper()
	w := sourcetest.NewWriter(nil)
	res, err := s.Backup(context.Background(), obj, sources.NoPrevious{}, w)
	if err != nil {
		t.Fatalf("backup %s: %v", obj, err)
	}
	return w, res
}

func findObject(t *testing.T, objs []sources.Object, db, table string) sources.Object {
	t.Helper()
	for _, o := range objs {
		if o.Database == db && o.Table == table {
			return o
		}
	}
	t.Fatalf("discover: %s.%s missing from %v", db, table, objs)
	return sources.Object{}
}

// jsonKeys returns the top-level keys of a JSON object in order.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("metadata.json is not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}
