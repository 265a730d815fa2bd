package mongodb

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
)

// point is the consistent point of a backup: a cluster time read at
// snapshot read concern on replica sets and sharded clusters of MongoDB 5.0
// or later (wire version 13), or "now" and a fuzzy copy otherwise.
type point struct {
	at          time.Time
	readConcern bson.D // nil when fuzzy
}

func (p point) consistency() string {
	if p.readConcern == nil {
		return "fuzzy"
	}
	return "snapshot"
}

// helloReply holds the fields of hello that decide the read mode.
type helloReply struct {
	SetName        string              `bson:"setName"`
	Msg            string              `bson:"msg"`
	MaxWireVersion int32               `bson:"maxWireVersion"`
	OperationTime  primitive.Timestamp `bson:"operationTime"`
	ClusterTime    struct {
		ClusterTime primitive.Timestamp `bson:"clusterTime"`
	} `bson:"$clusterTime"`
}

// consistentPoint asks the server whether it can read at one cluster time
// and picks that time. Snapshot reads must finish within the server's
// minSnapshotHistoryWindowInSeconds (300 s by default); a longer backup
// fails with SnapshotTooOld and should be run against a server with a
// longer window.
func consistentPoint(ctx context.Context, client *mongo.Client) (point, error) {
	now := time.Now().UTC()
	var h helloReply
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&h); err != nil {
		return point{}, fmt.Errorf("hello: %w", err)
	}
	if h.SetName == "" && h.Msg != "isdbgrid" || h.MaxWireVersion < 13 {
		return point{at: now}, nil
	}
	ts := h.OperationTime
	if ts.T == 0 {
		ts = h.ClusterTime.ClusterTime
	}
	if ts.T == 0 {
		return point{at: now}, nil
	}
	rc := bson.D{{Key: "level", Value: "snapshot"}, {Key: "atClusterTime", Value: ts}}
	return point{at: time.Unix(int64(ts.T), 0).UTC(), readConcern: rc}, nil
}
