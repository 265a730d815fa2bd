package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/stratabackup/strata/integration/harness"
)

// TestMongoDB drives the MongoDB source through the CLI against the
// harness's FerretDB instances: backup, the .bson and metadata.json read
// from the mount, a second backup after updating 5% of the documents (what
// it adds to the store), and `strata restore --to-mongodb` into the
// restore instance, compared document by document as raw BSON.
func TestMongoDB(t *testing.T) {
	ctx := context.Background()
	src := connect(t, harness.FerretDB(t))
	dst := connect(t, harness.FerretDBRestore(t))
	db := harness.UniqueName(t)
	t.Cleanup(func() {
		_ = src.Database(db).Drop(context.Background())
		_ = dst.Database(db + "_r").Drop(context.Background())
	})
	const n = 4000
	coll := src.Database(db).Collection("orders")
	docs := make([]any, n)
	for i := range docs {
		docs[i] = order(i, 0)
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "customer", Value: 1}}, Options: options.Index().SetName("by_customer")},
		{Keys: bson.D{{Key: "ref", Value: 1}}, Options: options.Index().SetName("ref_unique").SetUnique(true)},
	}); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	backupMongo := func() {
		e.ok("backup", "mongodb", "--cluster", "m", "--uri", harness.FerretDBURI, "--only", db+"/orders")
	}
	backupMongo()
	first := storeBytes(t, e.store)

	// The version directory holds mongodump's layout, byte-identical.
	mp := e.mount()
	vdir := filepath.Join(mp, "m", db, "orders", "latest")
	raw, err := os.ReadFile(filepath.Join(vdir, "orders.bson"))
	if err != nil {
		t.Fatal(err)
	}
	want := serverDocs(t, coll)
	got := splitBSON(t, raw)
	if len(got) != len(want) {
		t.Fatalf("orders.bson holds %d documents, the server %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("document %d differs between orders.bson and the server", i)
		}
	}
	var meta map[string]any
	mj, err := os.ReadFile(filepath.Join(vdir, "orders.metadata.json"))
	if err != nil || json.Unmarshal(mj, &meta) != nil {
		t.Fatalf("orders.metadata.json: %v\n%s", err, mj)
	}
	for _, k := range []string{"indexes", "uuid", "collectionName"} {
		if _, ok := meta[k]; !ok {
			t.Fatalf("metadata.json lacks mongodump's %q: %s", k, mj)
		}
	}

	// Update 5% of the documents at random; the second version may add at
	// most 15% of what the first one stored.
	r := rand.New(rand.NewPCG(1, 2))
	for _, i := range r.Perm(n)[:n/20] {
		if _, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: int32(i)}}, order(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second) // a new version second
	backupMongo()
	added := storeBytes(t, e.store) - first
	t.Logf("first version stored %d bytes; after updating 5%% of %d documents the second added %d (%.1f%%)", first, n, added, 100*float64(added)/float64(first))
	if float64(added) > 0.15*float64(first) {
		t.Errorf("second backup added %d bytes, more than 15%% of the first version's %d", added, first)
	}

	// Restore the latest version into the other instance, then compare.
	e.ok("restore", "--to-mongodb", harness.FerretDBRestoreURI, "--db", db+"_r", "m/"+db+"/orders/latest")
	restored := serverDocs(t, dst.Database(db+"_r").Collection("orders"))
	want = serverDocs(t, coll)
	if len(restored) != len(want) {
		t.Fatalf("restored %d documents, source has %d", len(restored), len(want))
	}
	for i := range want {
		if !bytes.Equal(restored[i], want[i]) {
			t.Fatalf("restored document %d differs from the source", i)
		}
	}
	names := indexNames(t, dst.Database(db+"_r").Collection("orders"))
	for _, name := range []string{"by_customer", "ref_unique"} {
		if !strings.Contains(names, name) {
			t.Fatalf("restored collection lacks index %s (has %s)", name, names)
		}
	}
}

func connect(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(context.Background(), options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// order is a ~1 KiB document with nested documents, arrays, binary, a
// date and an ObjectId; rev changes its content. Its binary payload is
// random (as stored images, keys or compressed blobs are): with a payload
// that compresses 100:1 the per-chunk references in the manifest, not the
// data, would dominate what a version costs.
func order(i, rev int) bson.D {
	oid := primitive.ObjectID{byte(i >> 16), byte(i >> 8), byte(i), 1, 2, 3, 4, 5, 6, 7, 8, byte(rev)}
	return bson.D{
		{Key: "_id", Value: int32(i)},
		{Key: "ref", Value: oid},
		{Key: "customer", Value: fmt.Sprintf("customer-%d", i%97)},
		{Key: "rev", Value: int32(rev)},
		{Key: "at", Value: primitive.NewDateTimeFromTime(time.Unix(1700000000+int64(i), 0))},
		{Key: "address", Value: bson.D{{Key: "street", Value: fmt.Sprintf("%d Long Street", i)}, {Key: "city", Value: "Springfield"}}},
		{Key: "items", Value: bson.A{bson.D{{Key: "sku", Value: "a"}, {Key: "qty", Value: int32(i % 5)}}, bson.D{{Key: "sku", Value: "b"}, {Key: "qty", Value: int32(rev)}}}},
		{Key: "blob", Value: primitive.Binary{Subtype: 0, Data: randomBytes(uint64(i)<<8|uint64(rev), 600)}},
	}
}

// serverDocs returns a collection's documents in _id order as raw BSON.
func serverDocs(t *testing.T, c *mongo.Collection) [][]byte {
	t.Helper()
	cur, err := c.Find(context.Background(), bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for cur.Next(context.Background()) {
		out = append(out, append([]byte(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// splitBSON cuts a .bson file into its documents, checking each.
func splitBSON(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 5 {
			t.Fatalf("truncated document at the end of .bson")
		}
		n := int(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
		if n < 5 || n > len(b) {
			t.Fatalf("bad document length %d", n)
		}
		if err := bson.Raw(b[:n]).Validate(); err != nil {
			t.Fatalf("invalid document in .bson: %v", err)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func indexNames(t *testing.T, c *mongo.Collection) string {
	t.Helper()
	cur, err := c.Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for cur.Next(context.Background()) {
		names = append(names, cur.Current.Lookup("name").StringValue())
	}
	return strings.Join(names, ",")
}

// storeBytes is the size of everything a store holds on disk.
func storeBytes(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
