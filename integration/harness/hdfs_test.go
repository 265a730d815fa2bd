package harness

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/colinmarc/hdfs/v2"
)

// TestHDFSRoundTripWithTwoReplicas writes a file through the Go client the
// HDFS source uses, reads it back, and checks that both DataNodes hold a
// replica of its block, which also proves the client reached them by IP.
func TestHDFSRoundTripWithTwoReplicas(t *testing.T) {
	c := hdfsClient(t)
	payload := make([]byte, 64<<10+17)
	if _, err := rand.Read(payload); err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("/harness-smoke/%x.bin", payload[:8])
	writeHDFS(t, c, name, payload)
	t.Cleanup(func() { _ = c.Remove(name) })

	got, err := c.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("read %s: %d bytes differ from the %d written", name, len(got), len(payload))
	}
	fi, err := c.Stat(name)
	if err != nil {
		t.Fatalf("stat %s: %v", name, err)
	}
	if r := fi.Sys().(*hdfs.FileStatus).GetBlockReplication(); r != 2 {
		t.Fatalf("%s: replication %d, want 2", name, r)
	}
	if n := replicasOf(t, payload); n != 2 {
		t.Fatalf("%s: %d block files on the DataNodes hold the data, want 2", name, n)
	}
}

// TestHDFSSnapshotDirAllowsSnapshots checks the documented snapshottable
// directory accepts snapshots, and that a snapshot keeps a deleted file.
func TestHDFSSnapshotDirAllowsSnapshots(t *testing.T) {
	c := hdfsClient(t)
	name := path.Join(HDFSSnapshotDir, "harness-smoke.txt")
	writeHDFS(t, c, name, []byte("before"))
	t.Cleanup(func() { _ = c.Remove(name) })

	snap, err := c.CreateSnapshot(HDFSSnapshotDir, "harness-smoke")
	if err != nil {
		t.Fatalf("create snapshot of %s: %v", HDFSSnapshotDir, err)
	}
	t.Cleanup(func() { _ = c.DeleteSnapshot(HDFSSnapshotDir, "harness-smoke") })
	if err := c.Remove(name); err != nil {
		t.Fatalf("remove %s: %v", name, err)
	}
	got, err := c.ReadFile(path.Join(snap, "harness-smoke.txt"))
	if err != nil || string(got) != "before" {
		t.Fatalf("read from snapshot %s: %q, %v; want %q", snap, got, err, "before")
	}
}

func hdfsClient(t *testing.T) *hdfs.Client {
	t.Helper()
	nn := HDFS(t)
	t.Setenv("HADOOP_CONF_DIR", HDFSConfDir())
	c, err := hdfs.New(nn)
	if err != nil {
		t.Fatalf("connect to hdfs %s: %v", nn, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func writeHDFS(t *testing.T, c *hdfs.Client, name string, data []byte) {
	t.Helper()
	if err := c.MkdirAll(path.Dir(name), 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", path.Dir(name), err)
	}
	_ = c.Remove(name)
	w, err := c.Create(name)
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("write %s: %v", name, err)
	}
	if err := closeHDFS(w); err != nil {
		t.Fatalf("close %s: %v", name, err)
	}
}

// closeHDFS closes w, retrying while the NameNode has not yet heard from a
// DataNode that the last block arrived: the Go client leaves that retry to
// its caller (see hdfs.IsErrReplicating), as the Java client retries too.
func closeHDFS(w *hdfs.FileWriter) error {
	err := w.Close()
	for i := 0; i < 10 && hdfs.IsErrReplicating(err); i++ {
		time.Sleep(time.Duration(50<<i) * time.Millisecond)
		err = w.Close()
	}
	return err
}

var blockFile = regexp.MustCompile(`^blk_-?[0-9]+$`)

// replicasOf counts the DataNodes' block files whose content is data.
func replicasOf(t *testing.T, data []byte) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(HDFSDataDir(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !blockFile.MatchString(d.Name()) {
			return err
		}
		if info, err := d.Info(); err != nil || info.Size() != int64(len(data)) {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Equal(b, data) {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatalf("scan block files under %s: %v", HDFSDataDir(), err)
	}
	return n
}
