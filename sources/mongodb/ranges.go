package mongodb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// idRange is a slice [lo, hi) of a collection by _id; a nil bound is open.
// Bounded ranges match only _ids of the bounds' type bracket, so ranges are
// used only when every _id is of that bracket (see planRanges).
type idRange struct {
	lo, hi *bson.RawValue
}

func (r idRange) filter() bson.D {
	var cond bson.D
	if r.lo != nil {
		cond = append(cond, bson.E{Key: "$gte", Value: *r.lo})
	}
	if r.hi != nil {
		cond = append(cond, bson.E{Key: "$lt", Value: *r.hi})
	}
	if cond == nil {
		return bson.D{}
	}
	return bson.D{{Key: "_id", Value: cond}}
}

// rangeableTypes maps a BSON type to the $type alias that matches its
// whole comparison bracket.
var rangeableTypes = map[bsontype.Type]string{
	bson.TypeObjectID: "objectId",
	bson.TypeInt32:    "number",
	bson.TypeInt64:    "number",
	bson.TypeDouble:   "number",
	bson.TypeString:   "string",
	bson.TypeDateTime: "date",
}

// planRanges splits a collection into about size/RangeBytes _id ranges. It
// returns one open range for small collections, for _id types it cannot
// split and whenever the server cannot answer the questions it asks; a
// single range is always correct, only slower.
func (s *Source) planRanges(ctx context.Context, coll *mongo.Collection) []idRange {
	whole := []idRange{{}}
	if noFilterPushdown(ctx, coll.Database()) {
		// Every range query would read the whole collection: n ranges
		// would cost n full scans.
		return whole
	}
	count, size, err := collStats(ctx, coll)
	if err != nil {
		s.cfg.Logger.Debug("collStats failed, reading in one range", "collection", coll.Name(), "err", err)
		return whole
	}
	n := int((size + s.cfg.RangeBytes - 1) / s.cfg.RangeBytes)
	if n <= 1 || count < 2*int64(n) {
		return whole
	}
	n = min(n, 1024)
	ids, err := sampleIDs(ctx, coll, n*64)
	if err != nil || len(ids) < n {
		s.cfg.Logger.Warn("cannot sample _ids, reading in one range", "collection", coll.Name(), "err", err)
		return whole
	}
	alias, ok := rangeableTypes[ids[0].Type]
	if !ok || !allOfType(ctx, coll, alias) {
		return whole
	}
	return rangesFromSample(ids, n)
}

// rangesFromSample sorts sampled _ids and cuts at n-1 quantiles.
func rangesFromSample(ids []bson.RawValue, n int) []idRange {
	slices.SortFunc(ids, compareValues)
	var out []idRange
	var lo *bson.RawValue
	for i := 1; i < n; i++ {
		hi := ids[i*len(ids)/n]
		if lo != nil && compareValues(*lo, hi) >= 0 {
			continue
		}
		out = append(out, idRange{lo: lo, hi: &hi})
		lo = &hi
	}
	return append(out, idRange{lo: lo})
}

func collStats(ctx context.Context, coll *mongo.Collection) (count, size int64, err error) {
	var st struct {
		Count int64 `bson:"count"`
		Size  int64 `bson:"size"`
	}
	cmd := bson.D{{Key: "collStats", Value: coll.Name()}}
	if err := coll.Database().RunCommand(ctx, cmd).Decode(&st); err != nil {
		return 0, 0, fmt.Errorf("collStats %s: %w", coll.Name(), err)
	}
	return st.Count, st.Size, nil
}

// sampleIDs returns about k _ids chosen at random: by $sample where the
// server has it, else by reservoir sampling over an unsorted _id-only scan
// (which costs the server no sort).
func sampleIDs(ctx context.Context, coll *mongo.Collection, k int) ([]bson.RawValue, error) {
	pipe := bson.A{bson.D{{Key: "$sample", Value: bson.D{{Key: "size", Value: k}}}},
		bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 1}}}}}
	if cur, err := coll.Aggregate(ctx, pipe); err == nil {
		if ids, err := collectIDs(ctx, cur, k); err == nil {
			return ids, nil
		}
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(10000))
	if err != nil {
		return nil, fmt.Errorf("scan _ids of %s: %w", coll.Name(), err)
	}
	return collectIDs(ctx, cur, k)
}

// collectIDs keeps a uniform reservoir of k _ids from a cursor.
func collectIDs(ctx context.Context, cur *mongo.Cursor, k int) ([]bson.RawValue, error) {
	defer cur.Close(ctx)
	var ids []bson.RawValue
	seen := 0
	for cur.Next(ctx) {
		id, err := idValue(cur.Current)
		if err != nil {
			return nil, err
		}
		id.Value = append([]byte(nil), id.Value...)
		seen++
		if len(ids) < k {
			ids = append(ids, id)
		} else if j := rand.IntN(seen); j < k {
			ids[j] = id
		}
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read _ids: %w", err)
	}
	if len(ids) == 0 {
		return nil, errors.New("no _ids")
	}
	return ids, nil
}

// allOfType reports whether every _id is in the $type bracket alias, so
// that ranges bounded by values of that bracket cover the collection.
func allOfType(ctx context.Context, coll *mongo.Collection, alias string) bool {
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$not", Value: bson.D{{Key: "$type", Value: alias}}}}}}
	n, err := coll.CountDocuments(ctx, filter)
	return err == nil && n == 0
}

// noFilterPushdown reports a server that evaluates every filter by reading
// the whole collection: FerretDB v1 (its buildInfo names ferretdbVersion).
func noFilterPushdown(ctx context.Context, db *mongo.Database) bool {
	var info bson.Raw
	if err := db.RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return false
	}
	_, err := info.LookupErr("ferretdbVersion")
	return err == nil
}
