package mongodb

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"

	"github.com/stratabackup/strata/sources"
)

// fuzzyWarning is recorded on versions read without a snapshot.
const fuzzyWarning = "fuzzy copy: the server offers no snapshot reads (standalone or FerretDB), " +
	"so documents written during the backup may or may not be in it"

// Backup writes one collection in mongodump's layout: <name>.metadata.json
// and <name>.bson, the documents in _id order read by parallel _id ranges.
// A view gets its metadata.json only. The .bson entry has Size -1: its
// length is known only once the last document has been read.
func (s *Source) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	dbName, collName := rawNames(obj)
	db := s.client.Database(dbName)
	info, err := collection(ctx, db, collName)
	if err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
	}
	pt, err := consistentPoint(ctx, s.client)
	if err != nil {
		return sources.Result{}, fmt.Errorf("back up %s from %s: %w", obj, RedactURI(s.cfg.URI), err)
	}
	res := sources.Result{At: pt.at, Meta: info.meta()}
	res.Meta["consistency"] = pt.consistency()
	res.Meta["uri"] = RedactURI(s.cfg.URI)
	if pt.readConcern == nil {
		res.Warnings = append(res.Warnings, fuzzyWarning)
	}
	base := sources.EscapeName(collName)
	coll := db.Collection(collName)
	var indexes []bson.Raw
	if !info.isView() {
		if indexes, err = listIndexes(ctx, coll); err != nil {
			return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
		}
	}
	meta, err := marshalMetadata(info, indexes)
	if err != nil {
		return sources.Result{}, err
	}
	if err := w.Add(ctx, fileEntry(base+metadataSuffix, pt.at, int64(len(meta))), bytes.NewReader(meta)); err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: write metadata: %w", obj, err)
	}
	if info.isView() {
		return res, nil
	}
	docs, size, err := s.writeDocuments(ctx, coll, pt, base+bsonSuffix, prev, w)
	if err != nil {
		return sources.Result{}, fmt.Errorf("back up %s: %w", obj, err)
	}
	res.Meta["documents"] = strconv.FormatInt(docs, 10)
	res.Meta["bson_bytes"] = strconv.FormatInt(size, 10)
	return res, nil
}

// writeDocuments streams the collection into one .bson entry. Documents
// unchanged since the previous version are referenced where that version
// stored them (see spanner).
func (s *Source) writeDocuments(ctx context.Context, coll *mongo.Collection, pt point, path string, prev sources.Previous, w sources.Writer) (docs, size int64, err error) {
	ranges := s.planRanges(ctx, coll)
	s.cfg.Logger.Debug("reading collection", "collection", coll.Name(), "ranges", len(ranges))
	q := rangeQuery{coll: coll, batchSize: s.cfg.BatchSize, readConcern: pt.readConcern}
	rr := readRanges(ctx, q, ranges, s.cfg.Workers, w)
	defer rr.close()
	sp := newSpanner(ctx, prev, path, rr.next, s.cfg.Logger)
	defer sp.close()
	if err := w.AddSpans(ctx, fileEntry(path, pt.at, -1), sp.nextSpan); err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	s.cfg.Logger.Debug("collection written", "collection", coll.Name(), "unchanged", sp.Reused, "new", sp.NewDocs)
	return rr.docs, rr.size, nil
}

func fileEntry(path string, mtime time.Time, size int64) sources.Entry {
	return sources.Entry{Path: path, Type: sources.TypeFile, Mode: 0o644, ModTime: mtime, Size: size}
}
