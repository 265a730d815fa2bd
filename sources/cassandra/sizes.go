package cassandra

import (
	"context"
	"fmt"
	"strings"

	"github.com/gocql/gocql"
)

// snapshotSizes are the bytes the table's live SSTables take on each
// node: what `nodetool snapshot` on every node would hold of it, the
// per-node copy a version is compared with.
type snapshotSizes struct {
	total   int64
	byNode  []string // "addr=bytes"
	missing []string // nodes that could not tell
}

// readSnapshotSizes asks each node's system_views.disk_usage (whole MiB,
// Cassandra 4.0 and later). Memtables not yet flushed are not counted.
func readSnapshotSizes(ctx context.Context, sess *gocql.Session, nodes []node, t *table) snapshotSizes {
	var s snapshotSizes
	for _, n := range nodes {
		if n.Down {
			s.missing = append(s.missing, n.Addr)
			continue
		}
		var mib int64
		err := sess.Query(`SELECT mebibytes FROM system_views.disk_usage WHERE keyspace_name = ? AND table_name = ?`, t.Keyspace, t.Name).
			WithContext(onHost(ctx, n.Addr)).Consistency(gocql.One).Scan(&mib)
		if err != nil && err != gocql.ErrNotFound {
			s.missing = append(s.missing, n.Addr)
			continue
		}
		s.total += mib << 20
		s.byNode = append(s.byNode, fmt.Sprintf("%s=%d", n.Addr, mib<<20))
	}
	return s
}

func (s snapshotSizes) String() string { return strings.Join(s.byNode, " ") }

// estimateCQLBytes guesses the size of a table's data parts from each
// node's system.size_estimates (partitions and mean partition size of
// its primary ranges, so one copy in all): CQL text takes about three
// times the serialized partitions. Nodes that cannot tell count zero.
func estimateCQLBytes(ctx context.Context, sess *gocql.Session, nodes []node, t *table) int64 {
	var total int64
	for _, n := range nodes {
		if n.Down {
			continue
		}
		iter := sess.Query(`SELECT mean_partition_size, partitions_count FROM system.size_estimates WHERE keyspace_name = ? AND table_name = ?`,
			t.Keyspace, t.Name).WithContext(onHost(ctx, n.Addr)).Consistency(gocql.One).Iter()
		var mean, count int64
		for iter.Scan(&mean, &count) {
			total += mean * count
		}
		_ = iter.Close()
	}
	return total * 3
}
