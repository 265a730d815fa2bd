package mongodb

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestFerretDBConformance runs the sources suite against FerretDB: one
// collection per object in a fresh database, one document per item.
func TestFerretDBConformance(t *testing.T) {
	srcURI, _ := ferretURIs(t)
	client := mustClient(t, srcURI)
	sourcetest.Run(t, sourcetest.Harness{
		Setup: func(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
			return setupCollections(t, client, srcURI, specs)
		},
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			db, coll := rawNames(obj)
			_, err := client.Database(db).Collection(coll).UpdateOne(context.Background(),
				bson.D{{Key: "_id", Value: itemID(item.Name)}}, bson.D{{Key: "$set", Value: itemDoc(item)[1:]}})
			if err != nil {
				t.Fatalf("update %q in %s: %v", item.Name, obj, err)
			}
		},
		NameOK: collectionNameOK,
		Reuses: true,
	})
}

// collectionNameOK is what MongoDB allows as a collection name: a
// non-empty UTF-8 string (a BSON string) without '$' or NUL, outside the
// system. prefix.
func collectionNameOK(name string) bool {
	return name != "" && utf8.ValidString(name) && !strings.ContainsAny(name, "$\x00") && !strings.HasPrefix(name, "system.")
}

// setupCollections fills a new database with the specs and returns a
// source limited to it, with the objects it discovers there.
func setupCollections(t *testing.T, client *mongo.Client, uri string, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	ctx := context.Background()
	dbName := fmt.Sprintf("strata_st_%d", time.Now().UnixNano())
	db := client.Database(dbName)
	t.Cleanup(func() { db.Drop(context.Background()) })
	for _, spec := range specs {
		docs := make([]any, len(spec.Items))
		for i, it := range spec.Items {
			docs[i] = itemDoc(it)
		}
		if _, err := db.Collection(spec.Name).InsertMany(ctx, docs); err != nil {
			t.Fatalf("create collection %q: %v", spec.Name, err)
		}
	}
	s, err := New(Config{URI: uri, Cluster: "st", Databases: []string{dbName}})
	if err != nil {
		t.Fatal(err)
	}
	found, err := s.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		for _, o := range found {
			if _, coll := rawNames(o); coll == spec.Name {
				objs[i] = o
			}
		}
		if objs[i].Table == "" {
			t.Fatalf("collection %q not discovered: %v", spec.Name, found)
		}
	}
	return s, objs
}

// itemDoc is an item as a document: its name as _id, its data as binary.
func itemDoc(it sourcetest.Item) bson.D {
	return bson.D{{Key: "_id", Value: itemID(it.Name)}, {Key: "data", Value: primitive.Binary{Data: it.Data}}}
}

// itemID is an item name as _id: a string where it is valid UTF-8, as
// BSON strings must be, else the raw bytes as binary.
func itemID(name string) any {
	if utf8.ValidString(name) {
		return name
	}
	return primitive.Binary{Data: []byte(name)}
}
