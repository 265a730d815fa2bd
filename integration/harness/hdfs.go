package harness

import (
	"path/filepath"
	"testing"
)

// HDFSNamenode is the test HDFS NameNode's RPC address.
const HDFSNamenode = "127.0.0.1:9000"

// HDFSSnapshotDir is a directory of the test HDFS on which snapshots are
// allowed, for sources that back up through HDFS snapshots.
const HDFSSnapshotDir = "/strata-snap"

// HDFS starts the test HDFS if needed (a NameNode and two DataNodes on
// 127.0.0.1, replication 2) and returns the NameNode address, host:port.
func HDFS(t testing.TB) (namenode string) {
	t.Helper()
	Require(t, "hdfs")
	return HDFSNamenode
}

// HDFSConfDir returns the directory holding the test HDFS's core-site.xml
// and hdfs-site.xml, for HADOOP_CONF_DIR.
func HDFSConfDir() string { return filepath.Join(WorkDir(), "hdfs", "conf") }

// HDFSDataDir returns the directory under which the DataNodes keep their
// block files, so tests can check where the replicas of a block landed.
func HDFSDataDir() string { return filepath.Join(WorkDir(), "hdfs", "data", "data") }
