package main

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
)

// TestMongoDoc checks the generated documents are about mongoDocBytes,
// deterministic, and differ between revisions.
func TestMongoDoc(t *testing.T) {
	a, err := bson.Marshal(mongoDoc(1, 42, 0))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := bson.Marshal(mongoDoc(1, 42, 0))
	c, _ := bson.Marshal(mongoDoc(1, 42, 1))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed, id and revision gave different documents")
	}
	if bytes.Equal(a, c) {
		t.Fatal("revision 1 equals revision 0")
	}
	if len(a) < mongoDocBytes*9/10 || len(a) > mongoDocBytes*11/10 {
		t.Fatalf("document is %d bytes, want about %d", len(a), mongoDocBytes)
	}
}

// TestChangedIDs checks the update sample: 5%, distinct, in range, seeded.
func TestChangedIDs(t *testing.T) {
	spec := mongoSpecFor(1000*mongoDocBytes, 7)
	ids := spec.changedIDs()
	if len(ids) != 50 {
		t.Fatalf("%d ids changed, want 50", len(ids))
	}
	seen := map[int64]bool{}
	for _, id := range ids {
		if id < 0 || id >= spec.Count || seen[id] {
			t.Fatalf("bad or repeated id %d", id)
		}
		seen[id] = true
	}
	if again := spec.changedIDs(); again[0] != ids[0] || again[49] != ids[49] {
		t.Fatal("changedIDs is not deterministic")
	}
}

// TestReadBSONDoc splits a stream of documents and rejects a truncated one.
func TestReadBSONDoc(t *testing.T) {
	var stream []byte
	for i := int64(0); i < 3; i++ {
		d, _ := bson.Marshal(mongoDoc(1, i, 0))
		stream = append(stream, d...)
	}
	r := bufio.NewReader(bytes.NewReader(stream))
	for i := 0; i < 3; i++ {
		doc, err := readBSONDoc(r)
		if err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		if got := doc.Lookup("_id").Int64(); got != int64(i) {
			t.Fatalf("document %d has _id %d", i, got)
		}
	}
	if _, err := readBSONDoc(r); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last document: %v, want io.EOF", err)
	}
	_, err := readBSONDoc(bufio.NewReader(bytes.NewReader(stream[:100])))
	if err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("truncated document: %v, want an error", err)
	}
}
