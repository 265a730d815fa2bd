package mongodb

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestFerretDBBackupRestore backs up every collection of a database,
// checks the files against the server byte for byte, restores them into
// the second instance and compares again.
func TestFerretDBBackupRestore(t *testing.T) {
	f := newFixture(t)
	f.populate(t)
	ctx := context.Background()
	s, err := New(Config{URI: f.srcURI, Cluster: "it", Databases: []string{f.db}, RangeBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	objs, err := s.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Errorf("discover: %d objects, want 3: %v", len(objs), objs)
	}
	for _, name := range []string{"big", "mixed", "small"} {
		t.Run(name, func(t *testing.T) {
			obj := findObject(t, objs, f.db, name)
			w, res := backupOne(t, s, obj)
			if res.Meta["consistency"] != "fuzzy" || len(res.Warnings) == 0 {
				t.Errorf("FerretDB copy not marked fuzzy: %v %v", res.Meta, res.Warnings)
			}
			_, hasBSON := w.Entry(name + ".bson")
			_, hasMeta := w.Entry(name + ".metadata.json")
			if !hasBSON || !hasMeta {
				t.Fatalf("files written: %v", w.Paths())
			}
			bsonData, meta := w.Data(name+".bson"), w.Data(name+".metadata.json")
			want := serverDocs(t, f.src, f.db, name)
			sameDocs(t, "backup", fileDocs(t, bsonData), want)
			checkMetadata(t, meta, name)
			t.Logf("%s: %d documents, %d bytes in %d spans; metadata %s", name, len(want), len(bsonData), len(w.Spans()), trim(meta))

			st, err := Restore(ctx, f.dstURI, w.Version(), RestoreOptions{Database: f.db, Drop: true})
			if err != nil {
				t.Fatal(err)
			}
			sameDocs(t, "restore", serverDocs(t, f.dst, f.db, name), want)
			checkIndexes(t, f, name)
			// A rerun merges: same documents, no error. (Not for the
			// 100,000 documents: FerretDB scans the collection per upsert.)
			if name == "small" {
				return
			}
			if _, err := Restore(ctx, f.dstURI, w.Version(), RestoreOptions{Database: f.db}); err != nil {
				t.Fatalf("rerun restore: %v", err)
			}
			sameDocs(t, "restore rerun", serverDocs(t, f.dst, f.db, name), want)
			t.Logf("restore: %+v", st)
		})
	}
}

func trim(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

// checkMetadata compares metadata.json's fields with mongodump's.
func checkMetadata(t *testing.T, b []byte, name string) {
	t.Helper()
	got := jsonKeys(t, b)
	want := []string{"indexes", "uuid", "collectionName", "type"}
	if len(got) > 0 && got[0] == "options" {
		want = append([]string{"options"}, want...)
	}
	if !slices.Contains(got, "uuid") {
		want = slices.DeleteFunc(want, func(s string) bool { return s == "uuid" })
	}
	if !slices.Equal(got, want) {
		t.Errorf("metadata.json keys %v, want %v", got, want)
	}
	m, err := parseMetadata(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.CollectionName != name || m.Type != "collection" || len(m.Indexes) == 0 {
		t.Errorf("metadata %+v", m)
	}
}

// checkIndexes compares index names, keys and uniqueness of source and
// restore target.
func checkIndexes(t *testing.T, f *fixture, coll string) {
	t.Helper()
	ctx := context.Background()
	norm := func(ixs []bson.Raw) map[string]string {
		out := map[string]string{}
		for _, ix := range ixs {
			name, _ := ix.Lookup("name").StringValueOK()
			uniq, _ := ix.Lookup("unique").BooleanOK()
			out[name] = ix.Lookup("key").String() + map[bool]string{true: " unique"}[uniq]
		}
		return out
	}
	src, err := listIndexes(ctx, f.src.Database(f.db).Collection(coll))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := listIndexes(ctx, f.dst.Database(f.db).Collection(coll))
	if err != nil {
		t.Fatal(err)
	}
	a, b := norm(src), norm(dst)
	if len(a) != len(b) {
		t.Fatalf("indexes: source %v, restored %v", a, b)
	}
	for k, v := range a {
		if b[k] != v {
			t.Errorf("index %s: source %s, restored %s", k, v, b[k])
		}
	}
}

// TestFerretDBDiff changes 5% of a collection plus inserts and deletes,
// backs it up again, and checks the new bytes, the Differ's output and a
// restore of the diff over the first version.
func TestFerretDBDiff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	const n = 10000
	f.insert(t, "small", smallDocs(n))
	s, err := New(Config{URI: f.srcURI, Cluster: "it", Databases: []string{f.db}, RangeBytes: 256 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	obj := sources.Object{Cluster: "it", Database: f.db, Table: "small"}
	w1, _ := backupOne(t, s, obj)
	if _, err := Restore(ctx, f.dstURI, w1.Version(), RestoreOptions{Database: f.db, Drop: true}); err != nil {
		t.Fatal(err)
	}

	docs := serverDocs(t, f.src, f.db, "small")
	coll := f.src.Database(f.db).Collection("small")
	rng := rand.New(rand.NewPCG(5, 6))
	perm := rng.Perm(n)
	in := func(idx []int) bson.D {
		ids := bson.A{}
		for _, i := range idx {
			ids = append(ids, docs[i].Lookup("_id"))
		}
		return bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	}
	if _, err := coll.UpdateMany(ctx, in(perm[:n/20]), bson.D{{Key: "$mul", Value: bson.D{{Key: "i", Value: int32(-1)}}}}); err != nil {
		t.Fatal(err)
	}
	deleted := perm[n/20 : n/20+10]
	if _, err := coll.DeleteMany(ctx, in(deleted)); err != nil {
		t.Fatal(err)
	}
	f.insert(t, "small", smallDocs(10))

	// The second backup reads the first as its previous version: only the
	// changed and added documents may be new data.
	v1 := w1.Version()
	w2 := sourcetest.NewWriter(v1)
	if _, err := s.Backup(ctx, obj, v1, w2); err != nil {
		t.Fatal(err)
	}
	sameDocs(t, "second backup", fileDocs(t, w2.Data("small.bson")), serverDocs(t, f.src, f.db, "small"))
	fresh, total := 0, 0
	for _, sp := range w2.Spans() {
		fresh += len(sp.Data)
		total += len(sp.Data) + int(sp.Len)
	}
	if total != len(w2.Data("small.bson")) {
		t.Fatalf("spans cover %d bytes, the file has %d", total, len(w2.Data("small.bson")))
	}
	t.Logf("second backup: %d of %d bytes new (%.1f%%) in %d spans", fresh, total, 100*float64(fresh)/float64(total), len(w2.Spans()))
	if float64(fresh)/float64(total) > 0.13 {
		t.Errorf("%.3f of the bytes are new after 5%% updates, want at most 0.13", float64(fresh)/float64(total))
	}

	dw := sourcetest.NewWriter(nil)
	if err := s.Diff(ctx, v1, w2.Version(), dw); err != nil {
		t.Fatal(err)
	}
	changed := fileDocs(t, dw.Data("small.bson"))
	if len(changed) != n/20+10 {
		t.Errorf("diff: %d documents, want %d", len(changed), n/20+10)
	}
	gotDel, err := parseIDs(dw.Data("small.deleted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(gotDel) != len(deleted) {
		t.Errorf("diff: %d deleted, want %d", len(gotDel), len(deleted))
	}
	if _, ok := dw.Entry("small.metadata.json"); !ok {
		t.Error("diff: no metadata.json")
	}
	st, err := Restore(ctx, f.dstURI, dw.Version(), RestoreOptions{Database: f.db})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("diff restore: %+v", st)
	sameDocs(t, "restore of diff over first version", serverDocs(t, f.dst, f.db, "small"), serverDocs(t, f.src, f.db, "small"))
}
