package mongodb

import (
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
)

// File name suffixes of mongodump's layout, plus the diff's deletions.
const (
	bsonSuffix     = ".bson"
	metadataSuffix = ".metadata.json"
	deletedSuffix  = ".deleted.json"
)

// metadata is the content of mongodump's <collection>.metadata.json.
type metadata struct {
	Options        bson.Raw   `bson:"options,omitempty"`
	Indexes        []bson.Raw `bson:"indexes"`
	UUID           string     `bson:"uuid,omitempty"`
	CollectionName string     `bson:"collectionName"`
	Type           string     `bson:"type,omitempty"`
}

// marshalMetadata writes metadata.json as mongodump does: canonical
// Extended JSON, fields in the order options, indexes, uuid,
// collectionName, type; options left out when empty, indexes always an
// array (mongorestore rejects null), index documents as listIndexes
// returned them.
func marshalMetadata(c collInfo, indexes []bson.Raw) ([]byte, error) {
	var d bson.D
	if len(c.Options) > 5 {
		d = append(d, bson.E{Key: "options", Value: c.Options})
	}
	idx := bson.A{}
	for _, ix := range indexes {
		idx = append(idx, ix)
	}
	d = append(d, bson.E{Key: "indexes", Value: idx})
	if u := c.uuid(); u != "" {
		d = append(d, bson.E{Key: "uuid", Value: u})
	}
	d = append(d, bson.E{Key: "collectionName", Value: c.Name})
	if c.Type != "" {
		d = append(d, bson.E{Key: "type", Value: c.Type})
	}
	b, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		return nil, fmt.Errorf("marshal metadata of %s: %w", c.Name, err)
	}
	return b, nil
}

// parseMetadata reads a metadata.json written by us or by mongodump.
func parseMetadata(b []byte) (metadata, error) {
	var m metadata
	if err := bson.UnmarshalExtJSON(b, true, &m); err != nil {
		return m, fmt.Errorf("parse metadata.json: %w", err)
	}
	return m, nil
}
