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
