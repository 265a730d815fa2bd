package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// TestMongoDB drives the MongoDB source through the CLI against the
// harness's FerretDB instances, on a database of three collections: orders
// (4,000 ~1 KiB documents with nested documents, arrays, binary, dates,
// ObjectIds, a secondary and a unique index), events (100,000 ~100-byte
// documents) and big (one document just under the 16 MiB limit). It checks
// the .bson and metadata.json read from the mount, what a second backup
// after updating 5% of the documents adds to the store (on disk: packs,
// indexes, manifest), and `strata restore --to-mongodb` into the restore
// instance, compared document by document as raw BSON.
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
	orders := src.Database(db).Collection("orders")
	docs := make([]any, n)
	for i := range docs {
		docs[i] = order(i, 0)
	}
	insertAll(t, orders, docs)
	if _, err := orders.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "customer", Value: 1}}, Options: options.Index().SetName("by_customer")},
		{Keys: bson.D{{Key: "ref", Value: 1}}, Options: options.Index().SetName("ref_unique").SetUnique(true)},
	}); err != nil {
		t.Fatal(err)
	}
	const nEvents = 100000
	r := rand.New(rand.NewPCG(1, 2))
	events := src.Database(db).Collection("events")
	docs = make([]any, nEvents)
	for i := range docs {
		docs[i] = event(r, i)
	}
	insertAll(t, events, docs)
	var hello struct {
		MaxBsonObjectSize int `bson:"maxBsonObjectSize"`
	}
	if err := src.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	big := src.Database(db).Collection("big")
	insertAll(t, big, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "blob", Value: primitive.Binary{Data: randomBytes(7, hello.MaxBsonObjectSize-1024)}}},
		bson.D{{Key: "_id", Value: 2}, {Key: "v", Value: "tiny"}},
	})
	colls := []*mongo.Collection{orders, events, big}

	e := newEnv(t)
	// One backup per collection, so what each adds to the store is known.
	backupAll := func() map[string]int64 {
		added := map[string]int64{}
		for _, c := range colls {
			before := storeBytes(t, e.store)
			e.ok("backup", "mongodb", "--cluster", "m", "--uri", harness.FerretDBURI, "--only", db+"/"+c.Name())
			added[c.Name()] = storeBytes(t, e.store) - before
		}
		return added
	}
	first := backupAll()

	// The version directories hold mongodump's layout, byte-identical.
	mp := e.mount()
	for _, c := range colls {
		vdir := filepath.Join(mp, "m", db, c.Name(), "latest")
		raw, err := os.ReadFile(filepath.Join(vdir, c.Name()+".bson"))
		if err != nil {
			t.Fatal(err)
		}
		want := serverDocs(t, c)
		sameDocs(t, c.Name()+".bson on the mount", splitBSON(t, raw), want)
		// A second reader: PyMongo decodes every document and encodes it
		// back byte for byte.
		py := harness.PyMongoCheck(t, filepath.Join(vdir, c.Name()+".bson"))
		if sum := sha256.Sum256(bytes.Join(want, nil)); py.Documents != len(want) || py.ReencodedIdentical != len(want) ||
			py.DecodeFileIter != len(want) || py.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("PyMongo read %s.bson as %+v; the server has %d documents", c.Name(), py, len(want))
		}
		var meta map[string]any
		mj, err := os.ReadFile(filepath.Join(vdir, c.Name()+".metadata.json"))
		if err != nil || json.Unmarshal(mj, &meta) != nil {
			t.Fatalf("%s.metadata.json: %v\n%s", c.Name(), err, mj)
		}
		for _, k := range []string{"indexes", "uuid", "collectionName"} {
			if _, ok := meta[k]; !ok {
				t.Fatalf("metadata.json lacks mongodump's %q: %s", k, mj)
			}
		}
	}
	if raw := splitBSON(t, readFile(t, filepath.Join(mp, "m", db, "big", "latest", "big.bson"))); len(raw[0]) < hello.MaxBsonObjectSize-2048 {
		t.Fatalf("big document is %d bytes, want near %d", len(raw[0]), hello.MaxBsonObjectSize)
	}

	// Update 5% of the orders and of the events at random; each second
	// version may add at most 15% of what its first version stored.
	for _, i := range r.Perm(n)[:n/20] {
		if _, err := orders.ReplaceOne(ctx, bson.D{{Key: "_id", Value: int32(i)}}, order(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	// FerretDB v1 scans the collection for each updated document (5,000
	// updates of 100,000 documents take ~15 minutes), but deletes in bulk:
	// so the events are updated as delete + insert of the same _ids.
	cur, err := events.Find(ctx, bson.D{{Key: "bucket", Value: 0}})
	if err != nil {
		t.Fatal(err)
	}
	var upd []any
	for cur.Next(ctx) {
		var d bson.D
		if err := bson.Unmarshal(cur.Current, &d); err != nil {
			t.Fatal(err)
		}
		for i := range d {
			if d[i].Key == "v" {
				d[i].Value = int32(1)
			}
		}
		upd = append(upd, d)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if len(upd) < nEvents/25 || len(upd) > nEvents/15 {
		t.Fatalf("%d events in the updated bucket, want about 5%% of %d", len(upd), nEvents)
	}
	if _, err := events.DeleteMany(ctx, bson.D{{Key: "bucket", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	insertAll(t, events, upd)
	if _, err := orders.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{int32(1), int32(2)}}}}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second) // a new version second
	second := backupAll()
	for _, c := range colls {
		name := c.Name()
		t.Logf("%s: first version stored %d bytes; after the updates the second added %d (%.1f%%)",
			name, first[name], second[name], 100*float64(second[name])/float64(first[name]))
		if float64(second[name]) > 0.15*float64(first[name]) {
			t.Errorf("%s: second backup added %d bytes, more than 15%% of the first version's %d", name, second[name], first[name])
		}
	}

	// @diff between the two versions on a fresh mount: exactly the
	// documents updated, and the deleted _ids.
	mp = e.mount()
	for _, tc := range []struct {
		c       *mongo.Collection
		field   string
		deleted string
	}{
		{orders, "rev", `[{"$numberInt":"1"},{"$numberInt":"2"}]`},
		{events, "v", `[]`},
	} {
		var times []string
		for _, v := range e.versions() {
			if v.Object.Database == db && v.Object.Table == tc.c.Name() {
				times = append(times, index.TimeName(v.Time))
			}
		}
		if len(times) != 2 {
			t.Fatalf("%s has versions %v, want 2", tc.c.Name(), times)
		}
		ddir := filepath.Join(mp, "m", db, tc.c.Name(), "@diff", times[0]+".."+times[1])
		var want [][]byte
		for _, d := range serverDocs(t, tc.c) {
			if bson.Raw(d).Lookup(tc.field).Int32() == 1 {
				want = append(want, d)
			}
		}
		sameDocs(t, tc.c.Name()+" @diff .bson", splitBSON(t, readFile(t, filepath.Join(ddir, tc.c.Name()+".bson"))), want)
		if got := string(readFile(t, filepath.Join(ddir, tc.c.Name()+".deleted.json"))); got != tc.deleted {
			t.Fatalf("%s @diff deleted.json is %s, want %s", tc.c.Name(), got, tc.deleted)
		}
	}

	// Restore the latest versions into the other instance, then compare.
	for _, c := range colls {
		e.ok("restore", "--to-mongodb", harness.FerretDBRestoreURI, "--db", db+"_r", "m/"+db+"/"+c.Name()+"/latest")
		sameDocs(t, "restored "+c.Name(), serverDocs(t, dst.Database(db+"_r").Collection(c.Name())), serverDocs(t, c))
	}
	// A @diff restored over the first version gives the second: load the
	// first version into another database, then apply <v1>..<v2> (updated
	// documents replaced, deleted _ids removed).
	var ot []string
	for _, v := range e.versions() {
		if v.Object.Database == db && v.Object.Table == "orders" {
			ot = append(ot, index.TimeName(v.Time))
		}
	}
	e.ok("restore", "--to-mongodb", harness.FerretDBRestoreURI, "--db", db+"_d", "m/"+db+"/orders/"+ot[0])
	t.Cleanup(func() { _ = dst.Database(db + "_d").Drop(context.Background()) })
	if n := len(serverDocs(t, dst.Database(db+"_d").Collection("orders"))); n != 4000 {
		t.Fatalf("first version restored %d orders, want 4000", n)
	}
	e.ok("restore", "--to-mongodb", harness.FerretDBRestoreURI, "--db", db+"_d", "m/"+db+"/orders/"+ot[0]+".."+ot[1])
	sameDocs(t, "first version + @diff restored", serverDocs(t, dst.Database(db+"_d").Collection("orders")), serverDocs(t, orders))

	names := indexNames(t, dst.Database(db+"_r").Collection("orders"))
	for _, name := range []string{"by_customer", "ref_unique"} {
		if !strings.Contains(names, name) {
			t.Fatalf("restored collection lacks index %s (has %s)", name, names)
		}
	}
}

// sameDocs fails unless got and want hold the same raw documents in order.
func sameDocs(t *testing.T, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d documents, the server has %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: document %d differs from the server's", what, i)
		}
	}
}

func insertAll(t *testing.T, c *mongo.Collection, docs []any) {
	t.Helper()
	for len(docs) > 0 {
		k := min(len(docs), 10000)
		if _, err := c.InsertMany(context.Background(), docs[:k]); err != nil {
			t.Fatalf("insert into %s: %v", c.Name(), err)
		}
		docs = docs[k:]
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// event is a ~100-byte document with a random 5% bucket (the ones
// updated) and 40 random characters, so the data does not compress.
func event(r *rand.Rand, i int) bson.D {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 40)
	for j := range b {
		b[j] = letters[r.IntN(len(letters))]
	}
	return bson.D{
		{Key: "_id", Value: primitive.ObjectID{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 9, 9, 9, 9, 9, 9, 9, 9}},
		{Key: "i", Value: int32(i)},
		{Key: "bucket", Value: int32(r.IntN(20))},
		{Key: "v", Value: int32(0)},
		{Key: "msg", Value: string(b)},
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
