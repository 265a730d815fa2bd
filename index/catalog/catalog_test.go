package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

func addTestVersion(t *testing.T, c *Catalog, ref format.ObjectRef, at time.Time, paths ...string) format.Version {
	t.Helper()
	m := &format.Manifest{Format: format.FormatVersion, Time: at, Kind: "test",
		Object: format.RawObject{Cluster: format.RawString(ref.Cluster), Database: format.RawString(ref.Database), Table: format.RawString(ref.Table)}}
	for i, p := range paths {
		var id format.ID
		id[0] = byte(i + 1)
		f := format.File{Entry: sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o644, ModTime: at, Size: 3}, Chunks: []format.ChunkRef{{ID: id, Size: 3}}}
		m.Files = append(m.Files, format.ToFileRecord(f))
	}
	name := format.VersionName(ref, at)
	if err := c.AddVersion(name, m); err != nil {
		t.Fatal(err)
	}
	return m.Version(name)
}

// openTestCatalog opens a fresh catalog, closed when the test ends.
func openTestCatalog(t *testing.T) *Catalog {
	t.Helper()
	c, err := Open(context.Background(), t.TempDir(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Versions of one object leave out a nested table's; files are found by
// path and listed by directory; a dropped version takes its files along.
func TestCatalogVersionsAndFiles(t *testing.T) {
	c := openTestCatalog(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	nested := format.ObjectRef{Cluster: "c", Database: "d", Table: "t/sub"}
	t0 := time.Unix(1700000000, 0).UTC()
	v := addTestVersion(t, c, ref, t0, "a", "dir/b", "dir/c")
	addTestVersion(t, c, nested, t0, "x")
	vs, err := c.Versions(ref)
	if err != nil || len(vs) != 1 || vs[0].Name != v.Name {
		t.Fatalf("versions of %s: %v (%v), want only %s", ref, vs, err, v.Name)
	}
	if objs, err := c.Objects(); err != nil || len(objs) != 2 {
		t.Fatalf("objects: %v (%v), want 2", objs, err)
	}
	f, err := c.Lookup(v, "dir/b")
	if err != nil || f.Path != "dir/b" || len(f.Chunks) != 1 || f.Chunks[0].ID[0] != 2 {
		t.Fatalf("lookup dir/b: %+v (%v)", f, err)
	}
	if _, err := c.Lookup(v, "dir/none"); !errors.Is(err, format.ErrNotFound) {
		t.Fatalf("lookup of a missing file: %v, want ErrNotFound", err)
	}
	fs, err := c.ReadDir(v, "dir")
	if err != nil || len(fs) != 2 || fs[0].Path != "dir/b" || fs[1].Path != "dir/c" {
		t.Fatalf("readdir dir: %v (%v)", fs, err)
	}
	gen, _ := c.Generation()
	if err := c.dropVersion(v.Name); err != nil {
		t.Fatal(err)
	}
	if g, _ := c.Generation(); string(g) == string(gen) {
		t.Fatal("a write kept the catalog's generation")
	}
	n := 0
	if err := c.EachFile(v, func(format.File) { n++ }); err != nil || n != 0 {
		t.Fatalf("%d files (%v) left of a dropped version", n, err)
	}
	if vs, _ := c.Versions(ref); len(vs) != 0 {
		t.Fatalf("dropped version still listed: %v", vs)
	}
}

// A view reads the current snapshot; after Close it refuses reads.
func TestViewReadsSnapshot(t *testing.T) {
	c, dir, ss, view, replace := newViewFixture(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	v := addTestVersion(t, c, ref, time.Unix(1700000000, 0).UTC(), "a")
	if _, err := view.Versions(ref); err == nil {
		t.Fatal("a view read before any snapshot")
	}
	replace()
	addTestVersion(t, c, ref, time.Unix(1700000001, 0).UTC(), "a")
	vs, err := view.Versions(ref)
	if err != nil || len(vs) != 1 || vs[0].Name != v.Name {
		t.Fatalf("view sees %v (%v), want the snapshot's one version", vs, err)
	}
	ss.Close()
	if _, err := view.Versions(ref); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v, want ErrClosed", err)
	}
	if old, _ := filepath.Glob(filepath.Join(dir, "snapshot-*")); len(old) != 0 {
		t.Fatalf("snapshot directories left after Close: %v", old)
	}
}

// Chunks finds exactly the stored ids of a batch, whatever their order,
// with the locations Chunk gives one at a time.
func TestChunksBatch(t *testing.T) {
	c, err := Open(context.Background(), t.TempDir(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var pack format.IndexPack
	pack.ID[0] = 0xaa
	for i := range 200 {
		var id format.ID
		id[0], id[1] = byte(i*37), byte(i) // stored out of id order
		pack.Blobs = append(pack.Blobs, format.PackBlob{ID: id, Type: 1, Offset: uint32(i * 100), Length: 100, RawLen: uint32(i + 1)})
	}
	if err := c.addIndex("idx", format.IndexFile{Packs: []format.IndexPack{pack}}); err != nil {
		t.Fatal(err)
	}
	var ask []format.ID
	for i := 199; i >= 0; i -= 3 {
		ask = append(ask, pack.Blobs[i].ID)
		var missing format.ID
		missing[0], missing[1], missing[2] = byte(i*37), byte(i), 1
		ask = append(ask, missing)
	}
	got := map[format.ID]format.BlobLoc{}
	if err := c.Chunks(ask, func(id format.ID, l format.BlobLoc) { got[id] = l }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ask)/2 {
		t.Fatalf("found %d of %d stored ids asked for", len(got), len(ask)/2)
	}
	for id, l := range got {
		want, ok, err := c.Chunk(id)
		if err != nil || !ok || want != l {
			t.Fatalf("chunk %x: batch gave %+v, Chunk gives %+v (%v, %v)", id[:2], l, want, ok, err)
		}
	}
}

// A version's file records go to tables of their own (ingested, see
// ingest.go): the generation key is left to the version's last batch.
// With it among the records (in every batch, as it once was), each table
// a version's records were flushed into reached up to "g", and compacting
// it rewrote the records of every version whose id sorts after the new
// one.
func TestVersionFilesFlushApart(t *testing.T) {
	c := openTestCatalog(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	t0 := time.Unix(1700000000, 0).UTC()
	paths := make([]string, 60000) // about 9 MB of records
	for i := range paths {
		paths[i] = fmt.Sprintf("dir%03d/a-file-name-long-enough-%06d", i/1000, i)
	}
	v := addTestVersion(t, c, ref, t0, paths...)
	if err := c.db.Flush(); err != nil {
		t.Fatal(err)
	}
	tables, err := c.db.SSTables()
	if err != nil {
		t.Fatal(err)
	}
	prefix := filesPrefix(versionID(v.Name))
	apart, toGen := 0, 0
	for _, level := range tables {
		for _, tb := range level {
			if !bytes.HasPrefix(tb.Smallest.UserKey, prefix) {
				continue
			}
			if bytes.HasPrefix(tb.Largest.UserKey, prefix) {
				apart++
			} else if bytes.Compare(tb.Largest.UserKey, genKey()) >= 0 {
				toGen++
			}
		}
	}
	if apart == 0 || toGen > 1 {
		t.Errorf("%d tables of the version's records alone, %d reaching the generation key; want some alone and at most the last reaching it", apart, toGen)
	}
}

// A version added as an alias of an identical one reads that one's
// records without a copy; the records outlive whichever version held
// them first and go with the last version that reads them.
func TestVersionAliasSharesRecords(t *testing.T) {
	c := openTestCatalog(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	t0 := time.Unix(1700000000, 0).UTC()
	a := addTestVersion(t, c, ref, t0, "a", "dir/b", "dir/c")
	alias := func(at time.Time, of string) format.Version {
		t.Helper()
		m := &format.Manifest{Format: format.FormatVersion, Time: at, Kind: "test",
			Object: format.RawObject{Cluster: format.RawString(ref.Cluster), Database: format.RawString(ref.Database), Table: format.RawString(ref.Table)}}
		name := format.VersionName(ref, at)
		ok, err := c.AddVersionAlias(name, m, of)
		if err != nil || !ok {
			t.Fatalf("alias %s of %s: %v, %v", name, of, ok, err)
		}
		return m.Version(name)
	}
	b := alias(t0.Add(time.Second), a.Name)
	cv := alias(t0.Add(2*time.Second), b.Name) // an alias of an alias reads the records directly
	if to, _, _ := c.get(aliasKey(versionID(cv.Name))); vid(to) != versionID(a.Name) {
		t.Fatalf("alias of an alias points at %x, want the records' %x", to, versionID(a.Name))
	}
	countFiles := func() int {
		n := 0
		if err := c.scan(kindPrefix(keyFile), func(_, _ []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := countFiles(); n != 3 {
		t.Fatalf("%d file records for three identical versions, want one copy (3)", n)
	}
	reads := func(v format.Version) {
		t.Helper()
		f, err := c.Lookup(v, "dir/b")
		if err != nil || f.Path != "dir/b" || len(f.Chunks) != 1 || f.Chunks[0].ID[0] != 2 {
			t.Fatalf("lookup dir/b in %s: %+v (%v)", v.Name, f, err)
		}
		kids, err := c.ReadDir(v, "dir")
		if err != nil || len(kids) != 2 || kids[1].Path != "dir/c" {
			t.Fatalf("readdir dir of %s: %v (%v)", v.Name, kids, err)
		}
		var lines int
		if err := c.EachFileLine(v, func(format.File, []byte) { lines++ }); err != nil || lines != 3 {
			t.Fatalf("%s: %d lines (%v), want 3", v.Name, lines, err)
		}
		if own, err := c.OwnFiles(v); err != nil || own != (v.Name == a.Name) {
			t.Fatalf("%s owns its files: %v (%v)", v.Name, own, err)
		}
	}
	for _, v := range []format.Version{a, b, cv} {
		reads(v)
	}
	if err := c.dropVersion(a.Name); err != nil {
		t.Fatal(err)
	}
	reads(b)
	reads(cv)
	if err := c.dropVersion(b.Name); err != nil {
		t.Fatal(err)
	}
	reads(cv)
	if n := countFiles(); n != 3 {
		t.Fatalf("%d file records while a version still reads them, want 3", n)
	}
	if err := c.dropVersion(cv.Name); err != nil {
		t.Fatal(err)
	}
	if n := countFiles(); n != 0 {
		t.Fatalf("%d file records left after the last version reading them was dropped", n)
	}
	if ok, err := c.AddVersionAlias("versions/none", &format.Manifest{}, a.Name); err != nil || ok {
		t.Fatalf("alias of a dropped version: %v, %v; want false, nothing written", ok, err)
	}
	if vs, _ := c.AllVersions(); len(vs) != 0 {
		t.Fatalf("versions left: %v", vs)
	}
}

// Dropping the version that holds shared records first, then the alias,
// also removes them; dropping the alias first keeps them for the owner.
func TestVersionAliasDroppedFirst(t *testing.T) {
	c := openTestCatalog(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	t0 := time.Unix(1700000000, 0).UTC()
	a := addTestVersion(t, c, ref, t0, "a")
	m := &format.Manifest{Format: format.FormatVersion, Time: t0.Add(time.Second), Kind: "test",
		Object: format.RawObject{Cluster: "c", Database: "d", Table: "t"}}
	name := format.VersionName(ref, m.Time)
	if ok, err := c.AddVersionAlias(name, m, a.Name); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := c.dropVersion(name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Lookup(a, "a"); err != nil {
		t.Fatalf("owner lost its records with its alias: %v", err)
	}
	if err := c.dropVersion(a.Name); err != nil {
		t.Fatal(err)
	}
	n := 0
	_ = c.scan(kindPrefix(keyFile), func(_, _ []byte) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d file records left", n)
	}
}

// Hold keeps reading the snapshot that was current when it was called,
// through any number of calls, while the view moves on to a newer one;
// the held snapshot is closed and removed once released.
func TestHoldPinsSnapshot(t *testing.T) {
	c, dir, _, view, replace := newViewFixture(t)
	ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	addTestVersion(t, c, ref, time.Unix(1700000000, 0).UTC(), "a")
	replace()
	held, release, err := view.Hold()
	if err != nil {
		t.Fatal(err)
	}
	addTestVersion(t, c, ref, time.Unix(1700000001, 0).UTC(), "b")
	replace()
	for range 2 {
		if vs, err := held.Versions(ref); err != nil || len(vs) != 1 {
			t.Fatalf("held catalog sees %d versions (%v), want the pinned snapshot's 1", len(vs), err)
		}
	}
	if vs, err := view.Versions(ref); err != nil || len(vs) != 2 {
		t.Fatalf("view sees %d versions (%v), want the new snapshot's 2", len(vs), err)
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "snapshot-*"))
	release()
	release() // twice is harmless
	after, _ := filepath.Glob(filepath.Join(dir, "snapshot-*"))
	if len(snaps) != 2 || len(after) != 1 {
		t.Fatalf("snapshot directories: %d while held, %d after release; want 2 and 1", len(snaps), len(after))
	}
	if self, rel, err := c.Hold(); err != nil || self != c {
		t.Fatalf("Hold of a catalog that is not a view: %v, %v", self, err)
	} else {
		rel()
	}
}

// newViewFixture opens a catalog in a temporary dir and a view over its
// snapshots; replace takes a new snapshot of the catalog and makes it the
// view's. Catalog and snapshots are closed when the test ends.
func newViewFixture(t *testing.T) (c *Catalog, dir string, ss *Snapshots, view *Catalog, replace func()) {
	t.Helper()
	ctx := context.Background()
	dir = t.TempDir()
	c, err := Open(ctx, filepath.Join(dir, "catalog"), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ss = NewSnapshots(slog.Default())
	t.Cleanup(ss.Close)
	replace = func() {
		t.Helper()
		sn, err := c.Checkpoint(ctx, dir, slog.Default())
		if err != nil {
			t.Fatal(err)
		}
		if err := ss.Replace(sn); err != nil {
			t.Fatal(err)
		}
	}
	return c, dir, ss, NewView(ss, "test view"), replace
}
