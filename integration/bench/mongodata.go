package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// The generated collection and where its description is kept.
const (
	mongoDB        = "strata_bench"
	mongoColl      = "docs"
	mongoMetaColl  = "meta" // one document describing docs, so runs can reuse it
	mongoPayload   = 3600   // random binary bytes per document (~4 KiB in all)
	mongoBatch     = 1000   // documents per InsertMany
	mongoChangePct = 5      // % of documents updated before the second backup
)

// mongoDocBytes is the approximate BSON size of one generated document; it
// turns -mongo-size into a document count.
const mongoDocBytes = 4096

// mongoDoc is document i at revision rev: nested documents, an array of
// documents, strings, a date and a random binary payload (random, as stored
// images, keys or compressed blobs are; a payload that compresses 100:1
// would measure the manifest, not the data). Deterministic in seed, i, rev.
func mongoDoc(seed uint64, i int64, rev int32) bson.D {
	r := rand.New(rand.NewPCG(seed, uint64(i)<<8|uint64(rev)))
	payload := make([]byte, mongoPayload)
	for j := 0; j+8 <= len(payload); j += 8 {
		v := r.Uint64()
		for k := 0; k < 8; k++ {
			payload[j+k] = byte(v >> (8 * k))
		}
	}
	return bson.D{
		{Key: "_id", Value: i},
		{Key: "rev", Value: rev},
		{Key: "customer", Value: fmt.Sprintf("customer-%05d", r.IntN(50_000))},
		{Key: "at", Value: primitive.NewDateTimeFromTime(time.Unix(1_700_000_000+i*7+int64(rev)*86_400, 0))},
		{Key: "address", Value: bson.D{
			{Key: "street", Value: fmt.Sprintf("%d Long Street", r.IntN(10_000))},
			{Key: "city", Value: fmt.Sprintf("City %d", r.IntN(500))},
			{Key: "geo", Value: bson.D{{Key: "lat", Value: r.Float64()*180 - 90}, {Key: "lon", Value: r.Float64()*360 - 180}}},
		}},
		{Key: "items", Value: bson.A{
			bson.D{{Key: "sku", Value: fmt.Sprintf("sku-%d", r.IntN(1000))}, {Key: "qty", Value: int32(r.IntN(9) + 1)}},
			bson.D{{Key: "sku", Value: fmt.Sprintf("sku-%d", r.IntN(1000))}, {Key: "qty", Value: int32(r.IntN(9) + 1)}},
		}},
		{Key: "tags", Value: bson.A{"bench", fmt.Sprintf("t%d", r.IntN(20))}},
		{Key: "payload", Value: primitive.Binary{Subtype: 0, Data: payload}},
	}
}

// mongoSpec describes the generated collection; it is stored in the meta
// collection so that a later run with the same flags reuses the data.
type mongoSpec struct {
	Count int64  `bson:"count"`
	Seed  uint64 `bson:"seed"`
	Done  bool   `bson:"done"`
}

func mongoSpecFor(size int64, seed uint64) mongoSpec {
	return mongoSpec{Count: max(1, size/mongoDocBytes), Seed: seed, Done: true}
}

// changedIDs are the _ids the update step rewrites: a seeded 5% sample.
func (s mongoSpec) changedIDs() []int64 {
	r := rand.New(rand.NewPCG(s.Seed, 0x5ca1ab1e))
	n := s.Count * mongoChangePct / 100
	ids := make([]int64, 0, n)
	for _, i := range r.Perm(int(s.Count))[:n] {
		ids = append(ids, int64(i))
	}
	return ids
}

// ensureMongoData loads the collection unless the meta collection says an
// identical one is there; it also undoes a previous run's update step.
func ensureMongoData(ctx context.Context, c *mongo.Client, spec mongoSpec) error {
	db := c.Database(mongoDB)
	var have mongoSpec
	err := db.Collection(mongoMetaColl).FindOne(ctx, bson.D{{Key: "_id", Value: mongoColl}}).Decode(&have)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return fmt.Errorf("read %s.%s: %w", mongoDB, mongoMetaColl, err)
	}
	if err == nil && have == spec {
		n, err := db.Collection(mongoColl).EstimatedDocumentCount(ctx)
		if err != nil {
			return fmt.Errorf("count %s.%s: %w", mongoDB, mongoColl, err)
		}
		if n == spec.Count {
			logf("mongo: reusing %s.%s (%d documents)", mongoDB, mongoColl, n)
			return setRevision(ctx, db.Collection(mongoColl), spec, 0)
		}
	}
	return loadMongoData(ctx, db, spec)
}

// loadMongoData drops and reloads the collection, logging progress.
func loadMongoData(ctx context.Context, db *mongo.Database, spec mongoSpec) error {
	// Drop the collection, not the database: FerretDB v1.24 (SQLite) died
	// of SIGBUS in _walFindFrame right after a database drop and reload.
	coll := db.Collection(mongoColl)
	if err := coll.Drop(ctx); err != nil {
		return fmt.Errorf("drop %s.%s: %w", mongoDB, mongoColl, err)
	}
	logf("mongo: loading %d documents (~%s) into %s.%s", spec.Count, human(float64(spec.Count*mongoDocBytes)), mongoDB, mongoColl)
	start, last := time.Now(), time.Now()
	batch := make([]any, 0, mongoBatch)
	for i := int64(0); i < spec.Count; i++ {
		batch = append(batch, mongoDoc(spec.Seed, i, 0))
		if len(batch) < mongoBatch && i+1 < spec.Count {
			continue
		}
		if _, err := coll.InsertMany(ctx, batch, options.InsertMany().SetOrdered(true)); err != nil {
			return fmt.Errorf("load %s.%s at document %d: %w", mongoDB, mongoColl, i, err)
		}
		batch = batch[:0]
		if time.Since(last) > 15*time.Second {
			last = time.Now()
			el := time.Since(start)
			logf("mongo: loaded %d/%d documents in %s (%.0f docs/s)", i+1, spec.Count, el.Round(time.Second), float64(i+1)/el.Seconds())
		}
	}
	logf("mongo: loaded %d documents in %s", spec.Count, time.Since(start).Round(time.Second))
	_, err := db.Collection(mongoMetaColl).ReplaceOne(ctx, bson.D{{Key: "_id", Value: mongoColl}}, spec, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("record %s.%s: %w", mongoDB, mongoMetaColl, err)
	}
	return nil
}

// setRevision rewrites the changed sample at rev unless its first document
// already is; rev 1 is the update before the second backup, rev 0 undoes it.
func setRevision(ctx context.Context, coll *mongo.Collection, spec mongoSpec, rev int32) error {
	ids := spec.changedIDs()
	if len(ids) == 0 {
		return nil
	}
	var probe struct {
		Rev int32 `bson:"rev"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: ids[0]}}).Decode(&probe); err != nil {
		return fmt.Errorf("read document %d: %w", ids[0], err)
	}
	if probe.Rev == rev {
		return nil
	}
	logf("mongo: rewriting %d documents at revision %d", len(ids), rev)
	// Delete and insert rather than ReplaceOne: FerretDB's SQLite backend
	// took about half a second per ReplaceOne on 64 MiB. An interrupted
	// rewrite leaves the count short, which makes the next run reload.
	if _, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("delete %d documents to rewrite: %w", len(ids), err)
	}
	for start := 0; start < len(ids); start += mongoBatch {
		batch := make([]any, 0, mongoBatch)
		for _, id := range ids[start:min(start+mongoBatch, len(ids))] {
			batch = append(batch, mongoDoc(spec.Seed, id, rev))
		}
		if _, err := coll.InsertMany(ctx, batch); err != nil {
			return fmt.Errorf("insert rewritten documents: %w", err)
		}
	}
	return nil
}
