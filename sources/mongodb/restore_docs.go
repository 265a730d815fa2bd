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

// loadDocuments writes the .bson documents in parallel batches: each batch
// is inserted unordered, and the documents whose _id already exists (a
// rerun, a merge, a @diff) are then replaced by _id. Inserting first keeps
// the common case fast on servers where an upsert costs a scan (FerretDB
// on SQLite: ~30 ms per upsert in a 20,000-document collection).
func (r *restorer) loadDocuments(ctx context.Context) error {
	path := r.base + bsonSuffix
	if _, ok := lookup(r.files, path); !ok {
		return nil
	}
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
				if err := r.writeBatch(gctx, b); err != nil {
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

func (r *restorer) writeBatch(ctx context.Context, docs []bson.Raw) error {
	exist := map[string]bool{}
	if !r.emptyAtStart {
		var err error
		if exist, err = r.existing(ctx, docs); err != nil {
			return err
		}
	}
	var ins []interface{}
	var repl []bson.Raw
	for _, d := range docs {
		id, err := idValue(d)
		if err != nil {
			return err
		}
		if exist[idKey(id)] {
			repl = append(repl, d)
		} else {
			ins = append(ins, d)
		}
	}
	if len(ins) > 0 {
		if _, err := r.coll.InsertMany(ctx, ins, options.InsertMany().SetOrdered(false)); err != nil {
			dups, ok := duplicates(err)
			if !ok {
				return fmt.Errorf("insert %d documents: %w", len(ins), err)
			}
			for _, i := range dups { // written meanwhile by someone else
				repl = append(repl, ins[i].(bson.Raw))
			}
		}
	}
	if len(repl) == 0 {
		return nil
	}
	return r.upsert(ctx, repl)
}

// existing returns the _ids (as idKey) of the batch already in the target.
// Asking first avoids duplicate-key errors, which are slow on MongoDB and
// leave FerretDB v1 (SQLite) hanging on later writes.
func (r *restorer) existing(ctx context.Context, docs []bson.Raw) (map[string]bool, error) {
	ids := bson.A{}
	for _, d := range docs {
		id, err := idValue(d)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	cur, err := r.coll.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("look up existing _ids: %w", err)
	}
	defer cur.Close(ctx)
	out := map[string]bool{}
	for cur.Next(ctx) {
		id, err := idValue(cur.Current)
		if err != nil {
			return nil, err
		}
		out[idKey(id)] = true
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("look up existing _ids: %w", err)
	}
	return out, nil
}

// idKey is an _id's type byte and value bytes, usable as a map key.
func idKey(id bson.RawValue) string { return string(append([]byte{byte(id.Type)}, id.Value...)) }

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

// upsert replaces documents that already exist: it deletes their _ids and
// inserts them again, in two commands per batch. Per-document ReplaceOne
// upserts would keep each replacement atomic but cost a collection scan
// each on FerretDB v1, and a few hundred of them in one bulk write hang
// FerretDB v1 (SQLite); between the two commands a reader may miss these
// documents. Rerunning after a failure between them restores them.
func (r *restorer) upsert(ctx context.Context, docs []bson.Raw) error {
	ids := bson.A{}
	ins := make([]interface{}, 0, len(docs))
	for _, d := range docs {
		id, err := idValue(d)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		ins = append(ins, d)
	}
	if _, err := r.coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}); err != nil {
		return fmt.Errorf("replace %d documents: delete: %w", len(docs), err)
	}
	if _, err := r.coll.InsertMany(ctx, ins, options.InsertMany().SetOrdered(false)); err != nil {
		return fmt.Errorf("replace %d documents: insert: %w", len(docs), err)
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
// (key order, name, unique and the other options) minus the obsolete "ns"
// and the version "v" (the server picks its default; FerretDB rejects it).
func (r *restorer) createIndexes(ctx context.Context) error {
	have := map[string]bool{"_id_": true}
	present, err := listIndexes(ctx, r.coll)
	if err != nil {
		return err
	}
	for _, ix := range present {
		name, _ := ix.Lookup("name").StringValueOK()
		have[name] = true
	}
	specs := bson.A{}
	for _, ix := range r.meta.Indexes {
		if name, _ := ix.Lookup("name").StringValueOK(); have[name] {
			r.stats.Indexes++ // already there (a rerun or a merge); FerretDB v1 drops the connection on re-creation
			continue
		}
		elems, err := ix.Elements()
		if err != nil {
			return fmt.Errorf("index in metadata.json: %w", err)
		}
		var spec bson.D
		for _, e := range elems {
			if e.Key() != "ns" && e.Key() != "v" {
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
