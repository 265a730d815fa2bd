package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

const recSize = 100

// rowSource writes one file of fixed-size records, each starting with an
// 8-byte key, the way a row source does: records equal to the previous
// version's (same key, same bytes) become spans of the previous file,
// the rest new data.
type rowSource struct {
	recs [][]byte
	at   time.Time
	// spanErr makes the source ask for a range past the previous file.
	spanErr bool
}

func (r *rowSource) Kind() string { return "rows" }
func (r *rowSource) Close() error { return nil }
func (r *rowSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "rows"}}, nil
}

func (r *rowSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	var old []byte
	if _, ok := prev.Lookup("rows.dat"); ok {
		rc, err := prev.(sources.PreviousReader).Open(ctx, "rows.dat")
		if err != nil {
			return sources.Result{}, err
		}
		old, err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return sources.Result{}, err
		}
	}
	oldAt := map[uint64]int64{}
	for off := 0; off+recSize <= len(old); off += recSize {
		oldAt[binary.BigEndian.Uint64(old[off:])] = int64(off)
	}
	i := 0
	next := func() (sources.Span, error) {
		if r.spanErr {
			return sources.Span{Off: int64(len(old)), Len: 1}, nil
		}
		if i == len(r.recs) {
			return sources.Span{}, io.EOF
		}
		rec := r.recs[i]
		i++
		if off, ok := oldAt[binary.BigEndian.Uint64(rec)]; ok && bytes.Equal(old[off:off+recSize], rec) {
			return sources.Span{Off: off, Len: recSize}, nil
		}
		return sources.Span{Data: rec}, nil
	}
	e := sources.Entry{Path: "rows.dat", Type: sources.TypeFile, Mode: 0o644, ModTime: r.at, Size: -1}
	return sources.Result{At: r.at}, w.AddSpans(ctx, e, next)
}

func (r *rowSource) content() []byte { return bytes.Join(r.recs, nil) }

func makeRecs(rng *rand.Rand, n int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = make([]byte, recSize)
		rng.Read(recs[i])
		binary.BigEndian.PutUint64(recs[i], uint64(i))
	}
	return recs
}

// TestSpansReferenceUnchangedRows: 5% of 20,000 100-byte rows change,
// some go, some come; the second version reads back exactly, costs little
// more than the changed rows, and survives a catalog rebuild and check.
func TestSpansReferenceUnchangedRows(t *testing.T) {
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	rng := rand.New(rand.NewSource(1))
	src := &rowSource{recs: makeRecs(rng, 20000), at: time.Unix(1700000000, 0).UTC()}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "rows"}
	v1, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want1 := src.content()

	recs := make([][]byte, 0, len(src.recs))
	changed := 0
	for i, rec := range src.recs {
		switch {
		case i%97 == 5: // deleted
			continue
		case rng.Intn(20) == 0:
			rec = append([]byte(nil), rec...)
			rng.Read(rec[8:])
			changed++
		}
		recs = append(recs, rec)
		if i%500 == 7 { // inserted
			n := make([]byte, recSize)
			rng.Read(n)
			binary.BigEndian.PutUint64(n, uint64(1e9+i))
			recs = append(recs, n)
			changed++
		}
	}
	src.recs, src.at = recs, src.at.Add(time.Hour)
	v2, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want2 := src.content()
	if got := readAll(t, st, v2, "rows.dat"); !bytes.Equal(got, want2) {
		t.Fatalf("second version reads %d bytes, differing from the %d written", len(got), len(want2))
	}
	if got := readAll(t, st, v1, "rows.dat"); !bytes.Equal(got, want1) {
		t.Fatal("first version changed")
	}
	// Random reads across extents.
	f, err := st.Lookup(ctx, v2, "rows.dat")
	if err != nil {
		t.Fatal(err)
	}
	r := st.OpenFile(f)
	defer r.Close()
	for k := 0; k < 200; k++ {
		off := rng.Int63n(int64(len(want2)))
		p := make([]byte, rng.Intn(5000)+1)
		n, err := r.ReadAt(ctx, p, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if !bytes.Equal(p[:n], want2[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d, %d) differs", off, len(p))
		}
	}
	changedBytes := int64(changed * recSize)
	t.Logf("v1 stored %d bytes; v2: %d rows changed or added (%d bytes), stored %d new bytes (%.1f%% of v1), %d references",
		v1.Stats.NewBytes, changed, changedBytes, v2.Stats.NewBytes, 100*float64(v2.Stats.NewBytes)/float64(v1.Stats.NewBytes), len(f.Chunks))
	if v2.Stats.NewBytes > changedBytes*11/10 {
		t.Errorf("second version stored %d new bytes for %d bytes of changed rows", v2.Stats.NewBytes, changedBytes)
	}

	res, err := st.Check(ctx, nil)
	if err != nil || len(res.Damage) > 0 {
		t.Fatalf("check: %v %v", err, res.Damage)
	}
	st.Close()
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	vs, err := st2.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "rows"})
	if err != nil || len(vs) != 2 {
		t.Fatalf("rebuilt versions %v %v", vs, err)
	}
	if got := readAll(t, st2, vs[1], "rows.dat"); !bytes.Equal(got, want2) {
		t.Fatal("second version differs after a rebuild from the manifests")
	}
}

func TestSpanOutsidePreviousFileFails(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newTestStore(t)
	src := &rowSource{recs: makeRecs(rand.New(rand.NewSource(2)), 10), at: time.Unix(1700000000, 0).UTC()}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "rows"}
	if _, err := st.Backup(ctx, src, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	src.spanErr = true
	_, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("outside the previous version's file")) {
		t.Fatalf("got %v, want an error naming the bad span", err)
	}
	vs, _ := st.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "rows"})
	if len(vs) != 1 {
		t.Fatalf("%d versions after a failed backup, want 1", len(vs))
	}
}

// TestSpansCompactSparseChunks: over 30 versions that each change 5% of
// the rows of a 6 MB file, the latest file does not refer to chunks it
// mostly does not use (reading it fetches about 1/compactBelow of its size
// at most), no version costs more than 15% of the first, and every
// version still reads back.
func TestSpansCompactSparseChunks(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newTestStore(t)
	rng := rand.New(rand.NewSource(3))
	src := &rowSource{recs: makeRecs(rng, 60000), at: time.Unix(1700000000, 0).UTC()}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "rows"}
	var vs []Version
	var wants [][]byte
	for k := 0; k < 30; k++ {
		if k > 0 {
			for i := range src.recs {
				if rng.Intn(20) == 0 {
					rec := append([]byte(nil), src.recs[i]...)
					rng.Read(rec[8:])
					src.recs[i] = rec
				}
			}
			src.at = src.at.Add(time.Hour)
		}
		v, err := st.Backup(ctx, src, obj, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		vs, wants = append(vs, v), append(wants, src.content())
		if testing.Verbose() {
			t.Logf("version %d added %.1f%%", k, 100*float64(v.Stats.NewBytes)/float64(vs[0].Stats.NewBytes))
		}
		if k > 0 && v.Stats.NewBytes > vs[0].Stats.NewBytes*15/100 {
			t.Errorf("version %d added %d bytes, more than 15%% of the first's %d", k, v.Stats.NewBytes, vs[0].Stats.NewBytes)
		}
	}
	f, err := st.Lookup(ctx, vs[len(vs)-1], "rows.dat")
	if err != nil {
		t.Fatal(err)
	}
	cat, _ := st.catalog()
	fetched := map[ID]int64{}
	for _, c := range f.Chunks {
		if _, seen := fetched[c.ID]; seen {
			continue
		}
		loc, ok, err := cat.Chunk(c.ID)
		if err != nil || !ok {
			t.Fatalf("chunk %s: %v %v", c.ID, ok, err)
		}
		fetched[c.ID] = int64(loc.RawLen)
	}
	var total int64
	for _, n := range fetched {
		total += n
	}
	amp := float64(total) / float64(f.Size)
	t.Logf("after %d versions: %d references to %d chunks; reading the file fetches %.2fx its size", len(vs), len(f.Chunks), len(fetched), amp)
	if amp > 1/compactBelow+0.3 {
		t.Errorf("reading the latest version fetches %.2fx its size", amp)
	}
	for k, v := range vs {
		if !bytes.Equal(readAll(t, st, v, "rows.dat"), wants[k]) {
			t.Fatalf("version %d reads back wrong", k)
		}
	}
}

// Forgetting the version whose chunks a later one refers to inside, then
// pruning (which repacks packs that are mostly unused), keeps every byte
// the later version needs.
func TestPruneKeepsExtentsOfForgottenVersion(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newTestStore(t)
	rng := rand.New(rand.NewSource(4))
	src := &rowSource{recs: makeRecs(rng, 30000), at: time.Unix(1700000000, 0).UTC()}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "rows"}
	if _, err := st.Backup(ctx, src, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	src.recs = src.recs[len(src.recs)/2:] // v1's first chunks become unused: prune repacks
	for i := 0; i < len(src.recs); i += 3 {
		rec := append([]byte(nil), src.recs[i]...)
		rng.Read(rec[8:])
		src.recs[i] = rec
	}
	src.at = src.at.Add(time.Hour)
	v2, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forget(ctx, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	res, err := st.Prune(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PacksRewritten == 0 || res.BytesFreed == 0 {
		t.Fatalf("prune rewrote no pack: %+v", res)
	}
	vs, _ := st.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "rows"})
	if len(vs) != 1 || vs[0].Name != v2.Name {
		t.Fatalf("versions after forget: %v", vs)
	}
	if !bytes.Equal(readAll(t, st, v2, "rows.dat"), src.content()) {
		t.Fatal("the kept version reads back wrong after prune")
	}
	chk, err := st.Check(ctx, nil)
	if err != nil || len(chk.Damage) > 0 {
		t.Fatalf("check after prune: %v %v", err, chk.Damage)
	}
}

// A format-1 store moves to the current format with its first backup (a
// version's file list is stored as chunks since format 4), so older
// binaries refuse it instead of misreading it; later backups, with
// extents, keep it there. A format this code does not know is refused.
func TestFormatUpgradeOnFirstExtent(t *testing.T) {
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Init(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Format != FormatVersion {
		t.Fatalf("new store has format %d, want %d", cfg.Format, FormatVersion)
	}
	setFormat := func(n int) {
		c := cfg
		c.Format = n
		data, _ := json.Marshal(c)
		if err := be.Put(ctx, "config", data); err != nil {
			t.Fatal(err)
		}
	}
	storeFormat := func() int {
		c, err := format.LoadConfig(ctx, be)
		if err != nil {
			t.Fatal(err)
		}
		return c.Format
	}
	setFormat(1)
	st, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	if _, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": []byte("x")}}, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if f := storeFormat(); f != FormatVersion {
		t.Fatalf("a backup left the store at format %d, want %d: its file list is chunks older readers would not see", f, FormatVersion)
	}
	src := &rowSource{recs: makeRecs(rand.New(rand.NewSource(5)), 100), at: time.Unix(1700000000, 0).UTC()}
	if _, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "rows"}, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if f := storeFormat(); f != FormatVersion {
		t.Fatalf("after a backup with spans the store has format %d, want %d", f, FormatVersion)
	}
	setFormat(FormatVersion + 1)
	if _, err := format.LoadConfig(ctx, be); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("store format %d", FormatVersion+1)) {
		t.Fatalf("a future format opened: %v", err)
	}
}

// A reader waiting on a chunk load that failed because the loader's
// context ended (a cancelled read-ahead) loads it again itself.
func TestChunkCacheRetriesAfterCancelledLoad(t *testing.T) {
	c := newChunkCache(1 << 20)
	var id ID
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = c.get(context.Background(), id, func() ([]byte, error) {
			close(started)
			<-release
			return nil, fmt.Errorf("read-ahead: %w", context.Canceled)
		})
	}()
	<-started
	done := make(chan []byte)
	go func() {
		b, err := c.get(context.Background(), id, func() ([]byte, error) { return []byte("data"), nil })
		if err != nil {
			t.Error(err)
		}
		done <- b
	}()
	time.Sleep(20 * time.Millisecond) // let the second caller wait on the first load
	close(release)
	if b := <-done; string(b) != "data" {
		t.Fatalf("got %q after the first load was cancelled", b)
	}
}

// A manifest whose extent points past its chunk's end is reported as a
// damaged reference of that one file, not as a damaged chunk.
func TestCheckReportsReferencePastChunkEnd(t *testing.T) {
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	src := &rowSource{recs: makeRecs(rand.New(rand.NewSource(6)), 1000), at: time.Unix(1700000000, 0).UTC()}
	v, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "rows"}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := format.ReadManifest(ctx, be, v.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Rewrite it as a manifest with its files inline (as format 3 wrote
	// them, still read), with the damage in them.
	m.FileList = nil
	err = st.Walk(ctx, v, "", func(f File) error {
		if f.Path == "rows.dat" {
			f.Chunks[0].Off = 1 << 30
		}
		m.Files = append(m.Files, format.ToFileRecord(f))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := format.EncodeManifest(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := be.Put(ctx, v.Name, data); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	res, err := st2.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Damage) != 1 || !strings.Contains(res.Damage[0].Problem, "manifest is damaged") ||
		len(res.Damage[0].Affected) != 1 || !strings.HasSuffix(res.Damage[0].Affected[0], ": rows.dat") {
		t.Fatalf("damage %+v, want one damaged reference in rows.dat", res.Damage)
	}
}

// TestBackRefsMoveFormat4Store: a backup whose records name no chunk twice
// leaves a format-4 store as it is; one that does (a changed row in the
// middle of a file: the old chunk before and after it) moves the store to
// format 5 before its version appears, and reads back.
func TestBackRefsMoveFormat4Store(t *testing.T) {
	ctx := context.Background()
	be, cache := newTestBackend(t)
	setConfigFormat(t, be, format.FormatFileList)
	st, err := Open(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := &rowSource{recs: makeRecs(rand.New(rand.NewSource(4)), 50), at: time.Unix(1700000000, 0).UTC()}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "rows"}
	if _, err := st.Backup(ctx, src, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if f := configFormat(t, be); f != format.FormatFileList {
		t.Fatalf("a backup without repeated chunks moved the store to format %d", f)
	}
	src.recs[25] = append([]byte(nil), src.recs[25]...)
	src.recs[25][99] ^= 1
	src.at = src.at.Add(time.Hour)
	v2, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.Lookup(ctx, v2, "rows.dat")
	if err != nil {
		t.Fatal(err)
	}
	if len(distinctChunks(f.Chunks)) == len(f.Chunks) {
		t.Fatalf("the changed file's references %v name no chunk twice", f.Chunks)
	}
	if f := configFormat(t, be); f != format.FormatBackRefs {
		t.Fatalf("a version with back references left the store at format %d", f)
	}
	if got := readAll(t, st, v2, "rows.dat"); !bytes.Equal(got, src.content()) {
		t.Fatal("the second version reads back differently")
	}
}
