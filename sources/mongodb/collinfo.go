package mongodb

import (
	"context"
	"encoding/hex"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
)

// collInfo is one listCollections entry.
type collInfo struct {
	Name    string   `bson:"name"`
	Type    string   `bson:"type"`
	Options bson.Raw `bson:"options"`
	Info    struct {
		UUID primitive.Binary `bson:"uuid"`
	} `bson:"info"`
}

// uuid returns the collection UUID as mongodump writes it: 32 hex digits.
func (c collInfo) uuid() string {
	if len(c.Info.UUID.Data) == 0 {
		return ""
	}
	return hex.EncodeToString(c.Info.UUID.Data)
}

func (c collInfo) isView() bool { return c.Type == "view" }

// meta is what discovery records of a collection in the manifest.
func (c collInfo) meta() map[string]string {
	m := map[string]string{"type": c.Type}
	if m["type"] == "" {
		m["type"] = "collection"
	}
	if u := c.uuid(); u != "" {
		m["uuid"] = u
	}
	if c.isView() {
		if v, err := c.Options.LookupErr("viewOn"); err == nil {
			m["view_on"], _ = v.StringValueOK()
		}
		if v, err := c.Options.LookupErr("pipeline"); err == nil {
			if js, err := bson.MarshalExtJSON(bson.D{{Key: "p", Value: v}}, true, false); err == nil {
				m["pipeline"] = string(js[len(`{"p":`) : len(js)-1])
			}
		}
	}
	return m
}

func listCollections(ctx context.Context, db *mongo.Database, filter bson.D) ([]collInfo, error) {
	cur, err := db.ListCollections(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", db.Name(), err)
	}
	var out []collInfo
	if err := cur.All(ctx, &out); err != nil {
		return nil, fmt.Errorf("list collections of %s: %w", db.Name(), err)
	}
	return out, nil
}

// collection returns the listCollections entry of one collection.
func collection(ctx context.Context, db *mongo.Database, name string) (collInfo, error) {
	infos, err := listCollections(ctx, db, bson.D{{Key: "name", Value: name}})
	if err != nil {
		return collInfo{}, err
	}
	for _, c := range infos {
		if c.Name == name {
			return c, nil
		}
	}
	return collInfo{}, fmt.Errorf("collection %s.%s not found (dropped since discovery?)", db.Name(), name)
}

// listIndexes returns the index specifications as the server sent them,
// keeping key order (which is the index's meaning).
func listIndexes(ctx context.Context, coll *mongo.Collection) ([]bson.Raw, error) {
	cur, err := coll.Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list indexes of %s.%s: %w", coll.Database().Name(), coll.Name(), err)
	}
	defer cur.Close(ctx)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("list indexes of %s.%s: %w", coll.Database().Name(), coll.Name(), err)
	}
	return out, nil
}
