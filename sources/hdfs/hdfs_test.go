package hdfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// treeFile is a file of the metadata test's tree.
type treeFile struct {
	name string
	size int
	repl int
	bs   int64
	mode os.FileMode
}

// metaTree is a small tree with what HDFS keeps: a file of more than two
// blocks, an empty file, replication 1 and 2, modes, hostile (valid
// UTF-8) names, a 255-byte name.
var metaTree = []treeFile{
	{name: "multi/three-blocks.bin", size: 3<<20 + 12345, repl: 2, bs: 1 << 20, mode: 0o640},
	{name: "empty", size: 0, repl: 2, bs: 1 << 20, mode: 0o600},
	{name: "one-replica", size: 1000, repl: 1, bs: 1 << 20, mode: 0o644},
	{name: "deep/a/b/c/d/e/f/leaf", size: 10, repl: 2, bs: 1 << 20, mode: 0o444},
	{name: "ctl\x01\x1f\x7f tab\tnew\nline", size: 20, repl: 2, bs: 1 << 20, mode: 0o644},
	{name: "ünïcødé 日本 %2F back\\slash", size: 30, repl: 2, bs: 1 << 20, mode: 0o644},
	{name: strings.Repeat("n", 252) + "end", size: 5, repl: 2, bs: 1 << 20, mode: 0o644},
}

// content is a file's deterministic content.
func content(name string, size int) []byte {
	b := make([]byte, size)
	seed := uint32(len(name)) * 2654435761
	for i := range b {
		seed = seed*1664525 + 1013904223
		b[i] = byte(seed >> 24)
	}
	return b
}

// makeMetaTree writes metaTree under dir plus an empty directory, a
// symlink, a 0750 directory owned by alice:staff, an xattr and an ACL.
func makeMetaTree(t *testing.T, c *hdfs.Client, nn *namenode, dir string) {
	t.Helper()
	for _, f := range metaTree {
		p := path.Join(dir, f.name)
		if err := putFile(c, p, content(f.name, f.size), f.repl, f.bs); err != nil {
			t.Fatal(err)
		}
		must(t, c.Chmod(p, f.mode))
	}
	must(t, c.MkdirAll(dir+"/empty-dir", 0o755))
	must(t, c.Chmod(dir+"/deep", 0o750))
	must(t, c.Chown(dir+"/deep", "alice", "staff"))
	must(t, c.Chown(dir+"/one-replica", "bob", "analysts"))
	must(t, createSymlink(context.Background(), nn, "multi/three-blocks.bin", dir+"/link"))
	must(t, c.SetXAttr(dir+"/one-replica", "user.comment", "kept \x00 raw"))
	must(t, setACL(context.Background(), nn, dir+"/multi/three-blocks.bin", "user:carol:r-x,group:ops:rw-"))
	must(t, c.Chtimes(dir+"/empty", time.UnixMilli(1_600_000_000_123), time.UnixMilli(1_500_000_000_456)))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestBackupAndLoadKeepMetadata backs up the metadata tree from a
// snapshot, checks the entries against HDFS, loads the version into
// another directory with the Loader and compares the two trees as HDFS
// shows them; a second load writes nothing.
func TestBackupAndLoadKeepMetadata(t *testing.T) {
	c := testClient(t)
	nn, err := newNamenode(c)
	must(t, err)
	dir := testDir(t, c, harness.HDFSSnapshotDir+"/meta")
	makeMetaTree(t, c, nn, dir)
	s := newTestSource(t, "tree="+dir)
	objs, err := s.Discover(context.Background())
	must(t, err)
	w := sourcetest.NewWriter(nil)
	res, err := s.Backup(context.Background(), objs[0], sources.NoPrevious{}, w)
	must(t, err)
	if res.Meta["snapshot"] == "" || res.Meta["fuzzy"] != "" {
		t.Errorf("backup of a snapshottable tree: meta %v, want a snapshot and no fuzzy mark", res.Meta)
	}
	if n := strataSnapshots(t, c, harness.HDFSSnapshotDir); n != 0 {
		t.Errorf("%d strata snapshots left after the backup", n)
	}
	v := w.Version()
	want := readTree(t, c, nn, dir)
	got := versionTree(t, v)
	compareTrees(t, "version", want, got)

	target := testDir(t, c, "/restored")
	load := func() LoadStats {
		r, err := loader{}.Load(context.Background(), "hdfs://"+harness.HDFSNamenode+target, v, sources.LoadOptions{Extra: extra("hdfs-user", testUser)})
		must(t, err)
		t.Logf("load: %s", r.Summary)
		return r.Stats.(LoadStats)
	}
	st := load()
	if st.Files != int64(len(metaTree)) {
		t.Errorf("load wrote %d files, want %d", st.Files, len(metaTree))
	}
	compareTrees(t, "loaded", want, readTree(t, c, nn, target))
	if st := load(); st.Files != 0 || st.Skipped != int64(len(metaTree)) {
		t.Errorf("second load: %+v, want every file skipped", st)
	}
	sub := testDir(t, c, "/restored-sub")
	r, err := loader{}.Load(context.Background(), "hdfs://"+harness.HDFSNamenode+sub, v, sources.LoadOptions{Extra: extra("path", "deep/a")})
	must(t, err)
	if got, err := c.ReadFile(sub + "/a/b/c/d/e/f/leaf"); err != nil || !bytes.Equal(got, content("deep/a/b/c/d/e/f/leaf", 10)) {
		t.Errorf("load --path deep/a: leaf %q, %v (%s)", got, err, r.Summary)
	}
}

func extra(kv ...string) sources.Config {
	c := sources.NewConfig()
	for i := 0; i+1 < len(kv); i += 2 {
		c.Set(kv[i], kv[i+1])
	}
	return c
}

// node is what the tests compare of an entry.
type node struct {
	typ                 sources.EntryType
	mode                uint32
	owner, group        string
	mtime               int64
	repl, bs            string
	target, acl, xattrs string
	data                string // sha of content, for files
}

// readTree reads dir's tree as HDFS shows it.
func readTree(t *testing.T, c *hdfs.Client, nn *namenode, dir string) map[string]node {
	t.Helper()
	out := map[string]node{}
	var walk func(rel string)
	walk = func(rel string) {
		list, err := c.ReadDir(path.Join(dir, rel))
		must(t, err)
		for _, fi := range list {
			r := path.Join(rel, fi.Name())
			full := path.Join(dir, r)
			target, lerr := linkTarget(context.Background(), nn, full)
			st := fi.Sys().(*hdfs.FileStatus)
			n := node{mode: st.GetPermission().GetPerm() & 0o7777, owner: st.GetOwner(), group: st.GetGroup(), mtime: int64(st.GetModificationTime())}
			switch {
			case lerr == nil:
				n.typ, n.target = sources.TypeSymlink, target
				n.mode, n.mtime, n.owner, n.group = 0, 0, "", ""
			case fi.IsDir():
				n.typ = sources.TypeDir
				walk(r)
			default:
				n.typ = sources.TypeFile
				n.repl, n.bs = strconv.Itoa(int(st.GetBlockReplication())), strconv.FormatUint(st.GetBlocksize(), 10)
				b, err := c.ReadFile(full)
				must(t, err)
				n.data = fmt.Sprintf("%x", b)
				if len(n.data) > 64 {
					n.data = fmt.Sprintf("%d:%x", len(b), b[len(b)-32:])
				}
			}
			if n.typ != sources.TypeSymlink {
				acl, err := getACL(context.Background(), nn, full)
				must(t, err)
				xa, err := c.ListXAttrs(full)
				must(t, err)
				n.acl, n.xattrs = acl, fmt.Sprint(xa)
			}
			out[r] = n
		}
	}
	walk("")
	return out
}

// versionTree reads a version's entries in readTree's form.
func versionTree(t *testing.T, v *sourcetest.Version) map[string]node {
	t.Helper()
	out := map[string]node{}
	for _, e := range v.Entries() {
		n := node{typ: e.Type, mode: e.Mode, mtime: e.ModTime.UnixMilli(), target: e.Target, acl: e.Attrs[attrACL]}
		if e.Owner != nil {
			n.owner, n.group = e.Owner.User, e.Owner.Group
		}
		xa := map[string]string{}
		for k, val := range e.Attrs {
			if name, ok := strings.CutPrefix(k, attrXAttrPrefix); ok {
				xa[name] = val
			}
		}
		n.xattrs = fmt.Sprint(xa)
		switch e.Type {
		case sources.TypeSymlink:
			n.mode, n.mtime, n.owner, n.group, n.xattrs = 0, 0, "", "", ""
		case sources.TypeFile:
			n.repl, n.bs = e.Attrs[attrReplication], e.Attrs[attrBlockSize]
			r, err := v.Open(context.Background(), e.Path)
			must(t, err)
			b, err := io.ReadAll(r)
			must(t, err)
			n.data = fmt.Sprintf("%x", b)
			if len(n.data) > 64 {
				n.data = fmt.Sprintf("%d:%x", len(b), b[len(b)-32:])
			}
		}
		out[e.Path] = n
	}
	return out
}

func compareTrees(t *testing.T, what string, want, got map[string]node) {
	t.Helper()
	for p, w := range want {
		g, ok := got[p]
		if !ok {
			t.Errorf("%s: %q missing", what, p)
			continue
		}
		if g != w {
			t.Errorf("%s: %q is\n%+v\nwant\n%+v", what, p, g, w)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %q", what, p)
		}
	}
}

// strataSnapshots counts the strata snapshots of root that this process
// made (other test processes may hold theirs at the same time).
func strataSnapshots(t *testing.T, c *hdfs.Client, root string) int {
	t.Helper()
	list, err := c.ReadDir(root + "/.snapshot")
	must(t, err)
	n := 0
	for _, fi := range list {
		if rest, ok := strings.CutPrefix(fi.Name(), snapPrefix); ok {
			if parts := strings.SplitN(rest, ".", 3); len(parts) == 3 && parts[1] == strconv.Itoa(os.Getpid()) {
				n++
			}
		}
	}
	return n
}
