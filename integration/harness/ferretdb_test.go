package harness

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// TestFerretDBDriverRoundTrip checks the operations MongoDB backups rely on
// work through mongo-driver: insert, sorted find, a unique index that
// rejects duplicates, and listIndexes showing it.
func TestFerretDBDriverRoundTrip(t *testing.T) {
	ctx := testContext(t)
	db := mongoClient(t, FerretDB(t)).Database(UniqueName(t))
	t.Cleanup(func() { _ = db.Drop(context.Background()) })
	coll := db.Collection("docs")

	docs := []any{bson.M{"_id": 2, "k": "b"}, bson.M{"_id": 1, "k": "a"}}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatalf("insert: %v", err)
	}
	checkKeys(t, ctx, coll, []string{"a", "b"})

	model := mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true).SetName("k_unique")}
	if _, err := coll.Indexes().CreateOne(ctx, model); err != nil {
		t.Fatalf("create unique index: %v", err)
	}
	if _, err := coll.InsertOne(ctx, bson.M{"_id": 3, "k": "a"}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("insert duplicate k: got %v, want a duplicate key error", err)
	}
	checkIndex(t, ctx, coll, "k_unique")
}

// TestFerretDBRestoreIsSeparate checks the restore instance does not see
// the source instance's data. It asks listCollections of one database, not
// listDatabases: FerretDB's listDatabases computes every database's stats
// and so waits for whichever database another test process is writing.
func TestFerretDBRestoreIsSeparate(t *testing.T) {
	ctx := testContext(t)
	name := UniqueName(t)
	src := mongoClient(t, FerretDB(t)).Database(name)
	t.Cleanup(func() { _ = src.Drop(context.Background()) })
	if _, err := src.Collection("c").InsertOne(ctx, bson.M{"x": 1}); err != nil {
		t.Fatalf("insert into source: %v", err)
	}
	if got, err := src.ListCollectionNames(ctx, bson.M{}); err != nil || len(got) != 1 {
		t.Fatalf("source collections of %s: %v, %v; want [c]", name, got, err)
	}
	got, err := mongoClient(t, FerretDBRestore(t)).Database(name).ListCollectionNames(ctx, bson.M{})
	if err != nil {
		t.Fatalf("list restore collections: %v", err)
	}
	if len(got) != 0 {
		t.Fatalf("restore instance has %s.%v; it must not share data with the source", name, got)
	}
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func mongoClient(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(context.Background(), options.Client().ApplyURI(uri).SetTimeout(30*time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

func checkKeys(t *testing.T, ctx context.Context, coll *mongo.Collection, want []string) {
	t.Helper()
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatalf("find: %v", err)
	}
	var got []struct{ K string }
	if err := cur.All(ctx, &got); err != nil {
		t.Fatalf("read cursor: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("find returned %d documents, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].K != want[i] {
			t.Fatalf("document %d has k=%q, want %q", i, got[i].K, want[i])
		}
	}
}

func checkIndex(t *testing.T, ctx context.Context, coll *mongo.Collection, name string) {
	t.Helper()
	specs, err := coll.Indexes().ListSpecifications(ctx)
	if err != nil {
		t.Fatalf("listIndexes: %v", err)
	}
	for _, s := range specs {
		if s.Name == name {
			if s.Unique == nil || !*s.Unique {
				t.Fatalf("index %s is not unique: %+v", name, s)
			}
			return
		}
	}
	t.Fatalf("listIndexes has no %s: %+v", name, specs)
}
