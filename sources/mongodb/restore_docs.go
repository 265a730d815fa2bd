package mongodb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
	"golang.org/x/sync/errgroup"
)

// maxBatchBytes bounds the document bytes of one bulk write.
const maxBatchBytes = 16 << 20

// loadDocuments writes the .bson documents in parallel batches. Into an
// empty collection it inserts (fast) and upserts only the documents that
// already exist, which happens when a failed restore is rerun; into a
// non-empty one it upserts every document by _id.
func (r *restorer) loadDocuments(ctx context.Context) error {
	path := r.base + bsonSuffix
	if _, ok := lookup(r.files, path); !ok {
		return nil
	}
	n, err := r.coll.EstimatedDocumentCount(ctx)
	if err != nil {
		return fmt.Errorf("count documents: %w", err)
	}
	insertFirst := n == 0
	rd, c, err := openDocs(ctx, r.files, path)
	if err != nil {
		return err
	}
	defer c.Close()
	g, gctx := errgroup.WithContext(ctx)
	batches := make(chan []bson.Raw, r.opts.Workers)
	var written atomic.Int64
	for i := 0; i < r.opts.Workers; i++ {
		g.Go(func() error {
			for b := range batches {
				if err := r.writeBatch(gctx, b, insertFirst); err != nil {
					return err
				}
				written.Add(int64(len(b)))
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(batches)
		return readBatches(gctx, rd, r.opts.BatchSize, batches)
	})
	err = g.Wait()
	r.stats.Documents += written.Load()
	return err
}

// readBatches cuts a .bson stream into batches of copied documents.
func readBatches(ctx context.Context, rd *docReader, size int, out chan<- []bson.Raw) error {
	var batch []bson.Raw
	bytes := 0
	for {
		doc, err := rd.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, append(bson.Raw(nil), doc...))
		bytes += len(doc)
		if len(batch) >= size || bytes >= maxBatchBytes {
			if err := sendBatch(ctx, out, batch); err != nil {
				return err
			}
			batch, bytes = nil, 0
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return sendBatch(ctx, out, batch)
}

func sendBatch(ctx context.Context, out chan<- []bson.Raw, b []bson.Raw) error {
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *restorer) writeBatch(ctx context.Context, docs []bson.Raw, insertFirst bool) error {
	if !insertFirst {
		return r.upsert(ctx, docs)
	}
	ins := make([]interface{}, len(docs))
	for i, d := range docs {
		ins[i] = d
	}
	_, err := r.coll.InsertMany(ctx, ins, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	dups, ok := duplicates(err)
	if !ok {
		return fmt.Errorf("insert %d documents: %w", len(docs), err)
	}
	again := make([]bson.Raw, 0, len(dups))
	for _, i := range dups {
		again = append(again, docs[i])
	}
	return r.upsert(ctx, again)
}

// duplicates returns the batch positions that failed with a duplicate _id
// only; ok is false when any other error occurred.
func duplicates(err error) (idx []int, ok bool) {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return nil, false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return nil, false
		}
		idx = append(idx, we.Index)
	}
	return idx, true
}

// upsert replaces each document by _id, inserting it when missing.
func (r *restorer) upsert(ctx context.Context, docs []bson.Raw) error {
	models := make([]mongo.WriteModel, 0, len(docs))
	for _, d := range docs {
		id, err := idValue(d)
		if err != nil {
			return err
		}
		models = append(models, mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: id}}).SetReplacement(d).SetUpsert(true))
	}
	if _, err := r.coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("upsert %d documents: %w", len(docs), err)
	}
	return nil
}

// applyDeletes removes the _ids listed in a @diff's deleted.json.
func (r *restorer) applyDeletes(ctx context.Context) error {
	path := r.base + deletedSuffix
	if _, ok := lookup(r.files, path); !ok {
		return nil
	}
	rc, err := r.files.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	js, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	ids, err := parseIDs(js)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	for len(ids) > 0 {
		n := min(len(ids), r.opts.BatchSize)
		in := bson.A{}
		for _, id := range ids[:n] {
			in = append(in, id)
		}
		res, err := r.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: in}}}})
		if err != nil {
			return fmt.Errorf("delete %d documents: %w", n, err)
		}
		r.stats.Deleted += res.DeletedCount
		ids = ids[n:]
	}
	return nil
}

// createIndexes recreates the recorded indexes except _id's, as recorded
// (key order, name, unique and the other options) minus the obsolete "ns".
func (r *restorer) createIndexes(ctx context.Context) error {
	specs := bson.A{}
	for _, ix := range r.meta.Indexes {
		if name, _ := ix.Lookup("name").StringValueOK(); name == "_id_" {
			continue
		}
		elems, err := ix.Elements()
		if err != nil {
			return fmt.Errorf("index in metadata.json: %w", err)
		}
		var spec bson.D
		for _, e := range elems {
			if e.Key() != "ns" {
				spec = append(spec, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return nil
	}
	cmd := bson.D{{Key: "createIndexes", Value: r.coll.Name()}, {Key: "indexes", Value: specs}}
	if err := r.coll.Database().RunCommand(ctx, cmd).Err(); err != nil {
		return fmt.Errorf("create %d indexes: %w", len(specs), err)
	}
	r.stats.Indexes += len(specs)
	return nil
}
