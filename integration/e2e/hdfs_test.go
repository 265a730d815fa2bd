package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	strhdfs "github.com/stratabackup/strata/sources/hdfs"
)

// hdfsTree is the e2e tree, kept between runs (its files take minutes to
// create on a busy machine): hdfsTreeFiles numbered files, a third of
// them non-empty, plus a file of more than two blocks, deep directories,
// hostile names, a symlink and an empty directory. hdfsTreeDone marks it
// complete; each run first puts back the files the previous run changed.
const (
	hdfsTree      = harness.HDFSSnapshotDir + "/e2e-tree-v2"
	hdfsTreeDone  = harness.HDFSSnapshotDir + "/e2e-tree-v2.done"
	hdfsTreeOld   = harness.HDFSSnapshotDir + "/e2e-tree-v1"
	hdfsTreeFiles = 10000
)

// treeFile names numbered file i and says its size, mode and replication.
func treeFile(i int) (name string, size int, mode os.FileMode, repl int) {
	name = fmt.Sprintf("d%02d/e%02d/f%05d", i/1000, i/100%10, i)
	if i%3 == 0 {
		size = 1 + i*7919%60000
	}
	repl = 2
	if i%7 == 0 {
		repl = 1
	}
	return name, size, []os.FileMode{0o644, 0o600, 0o640, 0o444, 0o755}[i%5], repl
}

// appendedFile and rewrittenFile pick 1% of the files with content each
// (every third file is empty, so 1% of the data, as with files of one
// size).
func appendedFile(i int) bool  { return i%297 == 0 }
func rewrittenFile(i int) bool { return i%297 == 99 }

// treeData is file name's content at generation gen.
func treeData(name string, size, gen int) []byte {
	b := make([]byte, size)
	seed := sha256.Sum256([]byte(name + "/" + strconv.Itoa(gen)))
	for i := 0; i < size; i += 32 {
		copy(b[i:], seed[:])
		seed = sha256.Sum256(seed[:])
	}
	return b
}

// extraFiles are the tree's special files: name -> size, block size.
var extraFiles = map[string][2]int64{
	"multi/big.bin": {3<<20 + 4321, 1 << 20},
	"deep/l01/l02/l03/l04/l05/l06/l07/l08/l09/l10/l11/l12/l13/l14/l15/l16/l17/l18/l19/l20/leaf": {77, 128 << 20},
	"names/ünïcødé 日本語":                 {11, 128 << 20},
	"names/ctl\x01\x1f tab\tnl\nend":    {12, 128 << 20},
	"names/%2F not a slash back\\slash": {13, 128 << 20},
	"names/" + strings.Repeat("n", 250): {14, 128 << 20},
}

// ensureHDFSTree creates the tree once (resuming an interrupted
// creation: files of the right size are kept), or puts back what the
// last run changed. The writes are spread over the clients cs.
func ensureHDFSTree(t *testing.T, cs []*hdfs.Client) {
	t.Helper()
	c := cs[0]
	jobs := map[string]func() error{}
	fresh := false
	if _, err := c.Stat(hdfsTreeDone); err != nil {
		fresh = true
		_ = c.RemoveAll(hdfsTreeOld)
		_ = c.Remove(hdfsTreeOld + ".done")
	}
	var have map[string]int64
	if fresh {
		have = listSizes(t, c, hdfsTree)
		mkdirs(t, cs, hdfsTree)
	}
	for i := range hdfsTreeFiles {
		name, size, mode, repl := treeFile(i)
		p := hdfsTree + "/" + name
		put := putHDFS
		n, ok := have[name]
		if fresh && !ok {
			put = createHDFS // two NameNode calls fewer
		}
		if (fresh && (!ok || n != int64(size))) || appendedFile(i) || rewrittenFile(i) {
			c := cs[len(jobs)%len(cs)]
			jobs[p] = func() error { return put(c, p, treeData(name, size, 0), repl, 128<<20, mode) }
		}
	}
	if fresh {
		for name, sz := range extraFiles {
			p := hdfsTree + "/" + name
			jobs[p] = func() error { return putHDFS(c, p, treeData(name, int(sz[0]), 0), 2, sz[1], 0o644) }
		}
	}
	t.Logf("HDFS tree: writing %d files (fresh: %v)", len(jobs), fresh)
	runParallel(t, 32, jobs)
	if !fresh {
		return
	}
	for _, err := range []error{
		c.MkdirAll(hdfsTree+"/empty-dir", 0o755),
		c.Chmod(hdfsTree+"/d01", 0o750),
		c.Chown(hdfsTree+"/d01", "alice", "staff"),
		c.Chown(hdfsTree+"/multi/big.bin", "bob", "analysts"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Remove(hdfsTree + "/link")
	if err := strhdfs.CreateSymlink(context.Background(), c, "multi/big.bin", hdfsTree+"/link"); err != nil {
		t.Fatal(err)
	}
	if err := putHDFS(c, hdfsTreeDone, nil, 1, 1<<20, 0o644); err != nil {
		t.Fatal(err)
	}
}

// putHDFS writes data to p (parents created) with replication, block
// size and mode, replacing a file there.
func putHDFS(c *hdfs.Client, p string, data []byte, repl int, bs int64, mode os.FileMode) error {
	if err := c.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	_ = c.Remove(p)
	return createHDFS(c, p, data, repl, bs, mode)
}

// createHDFS writes data to p, a new file in an existing directory, with
// replication, block size and mode (the NameNode applies no umask to the
// mode a client creates a file with).
func createHDFS(c *hdfs.Client, p string, data []byte, repl int, bs int64, mode os.FileMode) error {
	w, err := c.CreateFile(p, repl, bs, mode)
	if err != nil {
		return err
	}
	if len(data) > 0 {
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	for i := 0; ; i++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || i > 200 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mkdirs creates the directories of the numbered files under root.
func mkdirs(t *testing.T, cs []*hdfs.Client, root string) {
	t.Helper()
	jobs := map[string]func() error{}
	for i := range hdfsTreeFiles {
		name, _, _, _ := treeFile(i)
		d := root + "/" + path.Dir(name)
		if jobs[d] == nil {
			c := cs[len(jobs)%len(cs)]
			jobs[d] = func() error { return c.MkdirAll(d, 0o755) }
		}
	}
	runParallel(t, 16, jobs)
}

// listSizes returns the sizes of the files under root (relative paths),
// from listings: a Stat per file would be 10,000 NameNode calls. A root
// that does not exist has none.
func listSizes(t *testing.T, c *hdfs.Client, root string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	var walk func(dir string) error
	walk = func(dir string) error {
		list, err := c.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, fi := range list {
			p := dir + "/" + fi.Name()
			if fi.IsDir() {
				if err := walk(p); err != nil {
					return err
				}
			} else {
				out[strings.TrimPrefix(p, root+"/")] = fi.Size()
			}
		}
		return nil
	}
	if err := walk(root); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("list %s: %v", root, err)
	}
	return out
}

// runParallel runs jobs with n at once and fails on the first error.
func runParallel(t *testing.T, n int, jobs map[string]func() error) {
	t.Helper()
	ch := make(chan func() error)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range ch {
				if err := f(); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, f := range jobs {
		ch <- f
	}
	close(ch)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

// hdfsUser is the local user, the harness NameNode's superuser.
func hdfsUser(t *testing.T) string {
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

// hdfsClients connects n clients to the harness's HDFS: a client makes
// one NameNode call at a time, and the test writes and reads thousands
// of files.
func hdfsClients(t *testing.T, n int) []*hdfs.Client {
	t.Helper()
	nn := harness.HDFS(t)
	cs := make([]*hdfs.Client, n)
	for i := range cs {
		c, err := hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{nn}, User: hdfsUser(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		cs[i] = c
	}
	return cs
}

// hdfsEntry is what the test compares of an HDFS path.
type hdfsEntry struct {
	dir   bool
	link  string
	mode  fs.FileMode
	owner string
	mtime int64 // ms
	repl  int
	size  int64
	sum   string
}

// readHDFSTree reads root's tree through the Go clients cs, content
// included (an empty file, by its listed length, has the empty content's
// sum without a read).
func readHDFSTree(t *testing.T, cs []*hdfs.Client, root string) map[string]hdfsEntry {
	t.Helper()
	c := cs[0]
	empty := sha256.Sum256(nil)
	out := map[string]hdfsEntry{}
	var mu sync.Mutex
	jobs := map[string]func() error{}
	var walk func(dir string) error
	walk = func(dir string) error {
		list, err := c.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, fi := range list {
			p := dir + "/" + fi.Name()
			rel := strings.TrimPrefix(p, root+"/")
			st := fi.Sys().(*hdfs.FileStatus)
			if link := string(st.GetSymlink()); link != "" {
				out[rel] = hdfsEntry{link: link}
				continue
			}
			e := hdfsEntry{dir: fi.IsDir(), mode: fs.FileMode(st.GetPermission().GetPerm() & 0o7777),
				owner: st.GetOwner() + ":" + st.GetGroup(), mtime: int64(st.GetModificationTime()), repl: int(st.GetBlockReplication()), size: fi.Size()}
			out[rel] = e
			if e.dir {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			if e.size == 0 {
				e.sum = hex.EncodeToString(empty[:])
				out[rel] = e
				continue
			}
			c := cs[len(jobs)%len(cs)]
			jobs[rel] = func() error {
				b, err := c.ReadFile(p)
				if err != nil {
					return err
				}
				s := sha256.Sum256(b)
				mu.Lock()
				e := out[rel]
				e.sum = hex.EncodeToString(s[:])
				out[rel] = e
				mu.Unlock()
				return nil
			}
		}
		return nil
	}
	if err := walk(root); err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	runParallel(t, 16, jobs)
	return out
}

// localView is the part of an HDFS tree a local copy shows: content,
// mode, mtime, links, directories.
func localView(tree map[string]hdfsEntry) map[string]string {
	out := map[string]string{}
	for p, e := range tree {
		switch {
		case e.link != "":
			out[p] = "-> " + e.link
		case e.dir:
			out[p] = fmt.Sprintf("dir %o", e.mode)
		default:
			out[p] = fmt.Sprintf("%s %o %d", e.sum, e.mode, e.mtime/1000)
		}
	}
	return out
}

// escapedView names a view's paths as the mount shows them: each
// component escaped (control characters, '%', '\\').
func escapedView(v map[string]string) map[string]string {
	out := make(map[string]string, len(v))
	for p, d := range v {
		parts := strings.Split(p, "/")
		for i, c := range parts {
			parts[i] = sources.EscapeName(c)
		}
		out[filepath.Join(parts...)] = d
	}
	return out
}

// readLocalTree reads a local copy in localView's form.
func readLocalTree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "-> " + target
		case fi.IsDir():
			out[rel] = fmt.Sprintf("dir %o", fi.Mode().Perm())
		default:
			out[rel] = fmt.Sprintf("%s %o %d", fileSum(t, p), fi.Mode().Perm(), fi.ModTime().Unix())
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// TestHDFS drives the HDFS source through the CLI against the harness's
// HDFS on a tree of 10,006 files: backup from a snapshot, `rsync -a
// --checksum` out of the mount compared with the tree read through the Go
// client, `restore --to-hdfs` into another directory compared in content,
// permissions, owner, mtime and replication; then appends to 1% of the
// files and rewrites another 1%: the second backup must read only those
// bytes from the DataNodes (its bytes_read) and add at most 3% of what the
// first stored, and @diff must list exactly those files. Last, a backup
// killed with SIGKILL leaves a snapshot that the next run deletes.
func TestHDFS(t *testing.T) {
	cs := hdfsClients(t, 4)
	c := cs[0]
	ensureHDFSTree(t, cs)
	want := readHDFSTree(t, cs, hdfsTree)
	if n := countFiles(want); n < hdfsTreeFiles {
		t.Fatalf("tree has %d files, want at least %d", n, hdfsTreeFiles)
	}
	e := newEnv(t)
	user := hdfsUser(t)
	backup := func() index.Version {
		t.Helper()
		return parseBackup(t, e.ok("--json", "backup", "hdfs", "--cluster", "h", "--db", "e2e", "--namenode", harness.HDFSNamenode, "--user", user, "tree="+hdfsTree))
	}
	start := storeBytes(t, e.store)
	v1 := backup()
	firstStored := storeBytes(t, e.store) - start
	if v1.Meta["snapshot"] == "" {
		t.Errorf("first backup was not read from a snapshot: %v", v1.Meta)
	}

	mp := e.mount()
	local := e.path("rsync-out")
	if out, err := exec.Command("rsync", "-a", "--checksum", versionDir(mp, v1)+"/", local+"/").CombinedOutput(); err != nil {
		t.Fatalf("rsync out of the mount: %v\n%s", err, out)
	}
	sameTree(t, "rsync -a --checksum out of the mount", escapedView(localView(want)), readLocalTree(t, local))

	target := fmt.Sprintf("/strata-e2e-restore/%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = c.RemoveAll(target) })
	r := e.ok("restore", "--to-hdfs", "hdfs://"+harness.HDFSNamenode+target, "--hdfs-user", user, spec(v1))
	t.Logf("restore --to-hdfs: %s", strings.TrimSpace(r.stdout))
	sameHDFSTrees(t, want, readHDFSTree(t, cs, target))

	changed, readWant := changeHDFSTree(t, cs)
	before := storeBytes(t, e.store)
	v2 := backup()
	added := storeBytes(t, e.store) - before
	t.Logf("first backup stored %d bytes; second read %s bytes (want %d), added %d", firstStored, v2.Meta["bytes_read"], readWant, added)
	if v2.Meta["bytes_read"] != strconv.FormatInt(readWant, 10) {
		t.Errorf("second backup read %s bytes from the DataNodes, want %d: the appended bytes and the rewritten files", v2.Meta["bytes_read"], readWant)
	}
	if added*100 > firstStored*3 {
		t.Errorf("second backup added %d bytes to the store, more than 3%% of the first's %d", added, firstStored)
	}
	checkChanged(t, c, mp, v2, changed)
	checkHDFSDiff(t, mp, v1, v2, changed)
	checkKilledBackup(t, c, user)
}

// countFiles counts the regular files of a tree.
func countFiles(tree map[string]hdfsEntry) int {
	n := 0
	for _, e := range tree {
		if !e.dir && e.link == "" {
			n++
		}
	}
	return n
}

// sameHDFSTrees compares two HDFS trees in content, permissions, owner,
// mtime and replication (and links and directories).
func sameHDFSTrees(t *testing.T, want, got map[string]hdfsEntry) {
	t.Helper()
	bad := 0
	for p, w := range want {
		g, ok := got[p]
		if !ok || g.dir != w.dir || g.link != w.link || g.sum != w.sum || g.mode != w.mode || g.owner != w.owner || (!w.dir && (g.mtime != w.mtime || g.repl != w.repl)) {
			t.Errorf("restore --to-hdfs: %q is %+v, want %+v", p, g, w)
			if bad++; bad > 20 {
				t.Fatal("too many differences")
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("restore --to-hdfs: %d entries, want %d", len(got), len(want))
	}
}

// changeHDFSTree appends 100 bytes to 1% of the files and rewrites
// another 1% with new content; it returns the changed paths and the bytes
// a backup must read: the appended ones and the rewritten files.
func changeHDFSTree(t *testing.T, cs []*hdfs.Client) (map[string]bool, int64) {
	t.Helper()
	changed := map[string]bool{}
	var read int64
	jobs := map[string]func() error{}
	for i := range hdfsTreeFiles {
		name, size, mode, repl := treeFile(i)
		p := hdfsTree + "/" + name
		c := cs[i%len(cs)]
		switch {
		case appendedFile(i):
			changed[name] = true
			read += 100
			jobs[p] = func() error { return appendHDFSFile(c, p, treeData(name, 100, 1)) }
		case rewrittenFile(i):
			changed[name] = true
			read += int64(size)
			jobs[p] = func() error { return putHDFS(c, p, treeData(name, size, 2), repl, 128<<20, mode) }
		}
	}
	runParallel(t, 32, jobs)
	return changed, read
}

func appendHDFSFile(c *hdfs.Client, p string, data []byte) error {
	w, err := c.Append(p)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	for i := 0; ; i++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || i > 200 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkChanged compares the changed files in the second version, read
// through the mount, with HDFS.
func checkChanged(t *testing.T, c *hdfs.Client, mp string, v index.Version, changed map[string]bool) {
	t.Helper()
	// The mount learns of the new version at its next refresh (1s).
	if !waitFor(func() bool { _, err := os.Stat(versionDir(mp, v)); return err == nil }) {
		t.Fatalf("version %s never appeared in the mount", versionDir(mp, v))
	}
	for p := range changed {
		want, err := c.ReadFile(hdfsTree + "/" + p)
		if err != nil {
			t.Fatal(err)
		}
		if got := readFile(t, filepath.Join(versionDir(mp, v), p)); !bytes.Equal(got, want) {
			t.Errorf("second version: %s has %d bytes that differ from HDFS's %d", p, len(got), len(want))
		}
	}
}

// checkHDFSDiff checks that @diff/<v1>..<v2> holds exactly the changed
// files and an empty .deleted.
func checkHDFSDiff(t *testing.T, mp string, v1, v2 index.Version, changed map[string]bool) {
	t.Helper()
	dir := filepath.Join(mp, v1.Object.Cluster, v1.Object.Database, v1.Object.Table, "@diff", index.TimeName(v1.Time)+".."+index.TimeName(v2.Time))
	got := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			got[rel] = true
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, ".deleted")); err == nil && len(bytes.TrimSpace(b)) > 0 {
		t.Errorf("@diff .deleted lists %q, want nothing", b)
	}
	delete(got, ".deleted")
	for p := range changed {
		if !got[p] {
			t.Errorf("@diff lacks changed file %s", p)
		}
	}
	for p := range got {
		if !changed[p] {
			t.Errorf("@diff holds unchanged file %s", p)
		}
	}
}

// checkKilledBackup kills a first backup (into a new store, one file at
// a time) with SIGKILL once its snapshot exists, and checks that the next
// run under the same snapshottable directory (of a small tree, to be
// quick) deletes it.
func checkKilledBackup(t *testing.T, c *hdfs.Client, user string) {
	t.Helper()
	e := newEnv(t)
	args := []string{"backup", "hdfs", "--cluster", "h", "--db", "e2e", "--namenode", harness.HDFSNamenode, "--user", user}
	b := e.start(append(args, "--workers", "1", "tree="+hdfsTree)...)
	deadline := time.Now().Add(mountWait)
	pid := b.cmd.Process.Pid
	for strataSnapshotCount(t, c, pid) == 0 {
		if b.exited() || time.Now().After(deadline) {
			t.Fatalf("no strata snapshot appeared while the backup ran:\n%s", b.wait())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := b.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	b.wait()
	if strataSnapshotCount(t, c, pid) == 0 {
		t.Fatal("the killed backup left no snapshot: nothing to clean up")
	}
	small := fmt.Sprintf("%s/e2e-small-%d", harness.HDFSSnapshotDir, time.Now().UnixNano())
	t.Cleanup(func() { _ = c.RemoveAll(small) })
	if err := putHDFS(c, small+"/a", []byte("alpha"), 2, 1<<20, 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok(append(args, "small="+small)...)
	if n := strataSnapshotCount(t, c, pid); n != 0 {
		t.Errorf("the killed backup's snapshot is still there after the run that followed it")
	}
}

// strataSnapshotCount counts the snapshots of the snapshottable
// directory that strata process pid made (strata.<unix>.<pid>.<seq>.<host>;
// other tests may hold theirs at the same time).
func strataSnapshotCount(t *testing.T, c *hdfs.Client, pid int) int {
	t.Helper()
	list, err := c.ReadDir(harness.HDFSSnapshotDir + "/.snapshot")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, fi := range list {
		if parts := strings.SplitN(fi.Name(), ".", 5); len(parts) == 5 && parts[0] == "strata" && parts[2] == strconv.Itoa(pid) {
			n++
		}
	}
	return n
}
