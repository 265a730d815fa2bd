package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The peer is a single-cursor dump and an InsertMany load written with the
// same Go driver: what mongodump and mongorestore do at their core for one
// collection. mongodump itself cannot be installed here (not in Debian 12;
// the Go module proxy refuses github.com/mongodb/mongo-tools).

// peerDump streams find({}).sort({_id:1}) into path as raw documents and
// returns how many it wrote.
func peerDump(ctx context.Context, coll *mongo.Collection, path string) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, fmt.Errorf("find in %s: %w", coll.Name(), err)
	}
	defer cur.Close(ctx)
	var n int64
	for cur.Next(ctx) {
		if _, err := w.Write(cur.Current); err != nil {
			return n, fmt.Errorf("write %s: %w", path, err)
		}
		n++
	}
	if err := cur.Err(); err != nil {
		return n, fmt.Errorf("read %s: %w", coll.Name(), err)
	}
	if err := w.Flush(); err != nil {
		return n, fmt.Errorf("write %s: %w", path, err)
	}
	return n, f.Sync()
}

// peerLoad inserts the documents of the .bson file at path into coll in
// batches of mongoBatch and returns how many it inserted.
func peerLoad(ctx context.Context, coll *mongo.Collection, path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var n int64
	batch := make([]any, 0, mongoBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := coll.InsertMany(ctx, batch); err != nil {
			return fmt.Errorf("insert into %s after %d documents: %w", coll.Name(), n, err)
		}
		n += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	for {
		doc, err := readBSONDoc(r)
		if errors.Is(err, io.EOF) {
			return n, flush()
		}
		if err != nil {
			return n, fmt.Errorf("read %s: %w", path, err)
		}
		batch = append(batch, doc)
		if len(batch) == mongoBatch {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
}

// readBSONDoc reads one length-prefixed document; io.EOF at a clean end.
func readBSONDoc(r *bufio.Reader) (bson.Raw, error) {
	head, err := r.Peek(4)
	if len(head) == 0 && errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		return nil, fmt.Errorf("truncated document length: %w", err)
	}
	size := binary.LittleEndian.Uint32(head)
	if size < 5 || size > 48<<20 {
		return nil, fmt.Errorf("bad document length %d", size)
	}
	doc := make([]byte, size)
	if _, err := io.ReadFull(r, doc); err != nil {
		return nil, fmt.Errorf("truncated document: %w", err)
	}
	return doc, nil
}
