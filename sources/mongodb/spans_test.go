package mongodb

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

var testTime = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// makeDocs returns n documents with ObjectId _ids in ascending order and a
// payload making each about size bytes.
func makeDocs(t testing.TB, rng *rand.Rand, n, size int) []bson.Raw {
	t.Helper()
	docs := make([]bson.Raw, n)
	for i := range docs {
		docs[i] = makeDoc(t, makeID(rng, i), rng, size)
	}
	return docs
}

func makeID(rng *rand.Rand, i int) primitive.ObjectID {
	var id primitive.ObjectID
	id[0], id[1], id[2], id[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	for j := 4; j < 12; j++ {
		id[j] = byte(rng.IntN(256))
	}
	return id
}

func makeDoc(t testing.TB, id primitive.ObjectID, rng *rand.Rand, size int) bson.Raw {
	t.Helper()
	pad := make([]byte, max(0, size-60)+rng.IntN(size/4+1))
	for i := range pad {
		pad[i] = 'a' + byte(rng.IntN(26))
	}
	b, err := bson.Marshal(bson.D{{Key: "_id", Value: id}, {Key: "n", Value: rng.Int64()}, {Key: "s", Value: string(pad)}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// versionOf builds a version of path → content, with entries as Backup
// writes them.
func versionOf(t testing.TB, files map[string][]byte) *sourcetest.Version {
	t.Helper()
	w := sourcetest.NewWriter(nil)
	for p, b := range files {
		if err := w.Add(context.Background(), fileEntry(p, testTime, int64(len(b))), bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	return w.Version()
}

// spanAll writes docs through a spanner over prev (nil: first version)
// and returns the writer.
func spanAll(t *testing.T, prev *sourcetest.Version, docs []bson.Raw) (*sourcetest.Writer, *spanner) {
	t.Helper()
	w := sourcetest.NewWriter(prev)
	i := 0
	next := func() (bson.Raw, error) {
		if i == len(docs) {
			return nil, io.EOF
		}
		i++
		return docs[i-1], nil
	}
	var p sources.Previous = sources.NoPrevious{}
	if prev != nil {
		p = prev
	}
	sp := newSpanner(context.Background(), p, "c.bson", next, slog.New(slog.DiscardHandler))
	defer sp.close()
	if err := w.AddSpans(context.Background(), fileEntry("c.bson", testTime, -1), sp.nextSpan); err != nil {
		t.Fatal(err)
	}
	return w, sp
}

func TestSpannerReferencesUnchangedDocuments(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	v1 := makeDocs(t, rng, 5000, 100)
	w1, sp1 := spanAll(t, nil, v1)
	if sp1.Reused != 0 || sp1.NewDocs != 5000 {
		t.Fatalf("first version: %d reused, %d new; want 0, 5000", sp1.Reused, sp1.NewDocs)
	}
	prev := versionOf(t, map[string][]byte{"c.bson": w1.Data("c.bson")})

	var v2 []bson.Raw
	changed := 0
	for i, d := range v1 {
		switch {
		case i%50 == 3: // deleted
			continue
		case rng.IntN(20) == 0: // updated, same _id
			id, _ := idValue(d)
			d = makeDoc(t, id.ObjectID(), rng, 100)
			changed++
		}
		v2 = append(v2, d)
		if i%100 == 9 { // inserted between existing _ids
			id := id4(i)
			v2 = append(v2, makeDoc(t, id, rng, 100))
			changed++
		}
	}
	w2, sp2 := spanAll(t, prev, v2)
	if got, want := w2.Data("c.bson"), bytes.Join(toBytes(v2), nil); !bytes.Equal(got, want) {
		t.Fatalf("second version: %d bytes differ from the %d expected", len(got), len(want))
	}
	if int(sp2.NewDocs) != changed || int(sp2.Reused) != len(v2)-changed {
		t.Fatalf("%d new, %d reused; want %d, %d", sp2.NewDocs, sp2.Reused, changed, len(v2)-changed)
	}
	// Each change splits a run: about one range per change, not per document.
	ranges := 0
	for _, s := range w2.Spans() {
		if len(s.Data) == 0 {
			ranges++
		}
	}
	if ranges > changed+len(v1)/50+1 {
		t.Fatalf("%d ranges for %d changes and %d deletions", ranges, changed, len(v1)/50)
	}
}

// id4 is an ObjectId sorting right after those makeDocs gave ordinal i.
func id4(i int) primitive.ObjectID {
	var id primitive.ObjectID
	id[0], id[1], id[2], id[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	for j := 4; j < 12; j++ {
		id[j] = 0xff
	}
	return id
}

func toBytes(docs []bson.Raw) [][]byte {
	out := make([][]byte, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}

// A previous file out of _id order (or unreadable) costs deduplication,
// never correctness.
func TestSpannerSurvivesBadPrevious(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	docs := makeDocs(t, rng, 100, 200)
	shuffled := append([]bson.Raw(nil), docs...)
	shuffled[10], shuffled[60] = shuffled[60], shuffled[10]
	for name, prevBytes := range map[string][]byte{
		"unsorted":  bytes.Join(toBytes(shuffled), nil),
		"truncated": bytes.Join(toBytes(docs), nil)[:5000],
		"garbage":   bytes.Repeat([]byte{0xff}, 300),
	} {
		t.Run(name, func(t *testing.T) {
			prev := versionOf(t, map[string][]byte{"c.bson": prevBytes})
			w, _ := spanAll(t, prev, docs)
			if !bytes.Equal(w.Data("c.bson"), bytes.Join(toBytes(docs), nil)) {
				t.Fatal("written file differs from the documents")
			}
		})
	}
}

// FerretDB cannot store Decimal128 or nested arrays, so the server tests
// lack them; the backup path passes documents through as raw bytes and
// orders _ids itself, which this checks with both: numeric _ids of four
// types in MongoDB's order, Decimal128 values, arrays of arrays.
func TestSpannerDecimal128AndNestedArrays(t *testing.T) {
	dec := func(s string) primitive.Decimal128 {
		d, err := primitive.ParseDecimal128(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ids := []any{int32(-5), dec("-1.5"), int64(0), 0.25, dec("1"), int32(2), dec("2.5"), int64(1) << 40}
	mk := func(rev int) []bson.Raw {
		var out []bson.Raw
		for i, id := range ids {
			b, err := bson.Marshal(bson.D{
				{Key: "_id", Value: id},
				{Key: "price", Value: dec("12345678901234567890.123456789")},
				{Key: "matrix", Value: bson.A{bson.A{1, 2}, bson.A{bson.A{3}, "x"}}},
				{Key: "rev", Value: int32(rev * (i % 3 / 2))}, // rev changes documents 2 and 5
			})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		return out
	}
	v1 := mk(0)
	w1, _ := spanAll(t, nil, v1)
	prev := versionOf(t, map[string][]byte{"c.bson": w1.Data("c.bson")})
	v2 := mk(1)
	w2, sp := spanAll(t, prev, v2)
	if !bytes.Equal(w2.Data("c.bson"), bytes.Join(toBytes(v2), nil)) {
		t.Fatal("second version differs from the documents")
	}
	if sp.NewDocs != 2 || sp.Reused != int64(len(ids)-2) {
		t.Fatalf("%d new, %d reused; want 2 new (documents 2 and 5), %d reused", sp.NewDocs, sp.Reused, len(ids)-2)
	}
	// The diff between the versions finds the same two documents.
	cur := versionOf(t, map[string][]byte{"c.bson": w2.Data("c.bson")})
	d, err := diffDocs(context.Background(), prev, cur, "c.bson")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.deleted) != 0 || !d.changed.has(2) || !d.changed.has(5) || d.changed.has(0) {
		t.Fatalf("diff: changed %v, deleted %v", d.changed, d.deleted)
	}
}
