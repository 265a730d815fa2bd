package hdfs

import (
	"errors"
	"fmt"
	"path"
	"sync"
	"testing"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/integration/harness"
)

// testUser is the HDFS user the tests act as: the local user, who also
// runs the harness's NameNode and so is its superuser (chown needs one
// even with permissions off).
var testUser = currentUser()

// testClient connects to the harness's HDFS.
func testClient(t testing.TB) *hdfs.Client {
	t.Helper()
	nn := harness.HDFS(t)
	c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{nn}, User: testUser})
	if err != nil {
		t.Fatalf("connect to hdfs %s: %v", nn, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// testDir returns a fresh directory under base, removed when the test
// ends.
func testDir(t testing.TB, c *hdfs.Client, base string) string {
	t.Helper()
	dir := fmt.Sprintf("%s/t%d", base, time.Now().UnixNano())
	if err := c.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("mkdir %s: %v", dir, err)
	}
	t.Cleanup(func() { _ = c.RemoveAll(dir) })
	return dir
}

// writeHDFS writes data to name (parents created), replacing a file there.
func writeHDFS(t testing.TB, c *hdfs.Client, name string, data []byte) {
	t.Helper()
	if err := putFile(c, name, data, 0, 0); err != nil {
		t.Fatal(err)
	}
}

// putFile writes data to name with replication and block size (0: the
// cluster's), replacing a file there.
func putFile(c *hdfs.Client, name string, data []byte, repl int, bs int64) error {
	if err := c.MkdirAll(path.Dir(name), 0o755); err != nil {
		return fmt.Errorf("mkdir %s: %w", path.Dir(name), err)
	}
	_ = c.Remove(name)
	if repl == 0 {
		repl = 2
	}
	if bs == 0 {
		bs = 128 << 20
	}
	w, err := c.CreateFile(name, repl, bs, 0o644)
	if err != nil {
		return fmt.Errorf("create %q: %w", name, err)
	}
	if len(data) > 0 {
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write %q: %w", name, err)
		}
	}
	return closeRetry(w, name)
}

// closeRetry closes a writer, retrying while the last block replicates.
func closeRetry(w interface{ Close() error }, name string) error {
	for i := 0; ; i++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || i > 100 {
			if err != nil {
				return fmt.Errorf("close %q: %w", name, err)
			}
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// appendHDFS appends data to name.
func appendHDFS(t testing.TB, c *hdfs.Client, name string, data []byte) {
	t.Helper()
	w, err := c.Append(name)
	if err != nil {
		t.Fatalf("append to %q: %v", name, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("append to %q: %v", name, err)
	}
	if err := closeRetry(w, name); err != nil {
		t.Fatal(err)
	}
}

// putMany writes files (name -> data) with 32 writers at once.
func putMany(t testing.TB, c *hdfs.Client, files map[string][]byte) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		jobs = make(chan string)
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range jobs {
				if err := putFile(c, name, files[name], 0, 0); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for name := range files {
		jobs <- name
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// newTestSource is a source over dirs (TABLE=DIR or DIR) of the harness's
// HDFS.
func newTestSource(t testing.TB, dirs ...string) *Source {
	t.Helper()
	s, err := New(Config{Cluster: "c", Database: "d", Namenodes: []string{harness.HDFSNamenode}, User: testUser, Dirs: dirs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
