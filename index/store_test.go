package index

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/backends/faulty"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/sources"
)

// memSource is a source whose one object holds the given files.
type memSource struct {
	files  map[string][]byte
	pieces bool // use AddSpans with 1000-byte spans of new data
	at     time.Time
	keep   map[string]bool   // files kept unchanged from the previous version
	same   bool              // try KeepSame first for every file
	modes  map[string]uint32 // modes other than 0640
	ranged *rangeReads       // hand Add readers that read ranges too
}

func (m *memSource) Kind() string { return "mem" }
func (m *memSource) Close() error { return nil }
func (m *memSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "t"}}, nil
}

func (m *memSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	for p, data := range m.files {
		e := sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o640, ModTime: time.Unix(1700000000, 0).UTC(), Size: int64(len(data))}
		if mode, ok := m.modes[p]; ok {
			e.Mode = mode
		}
		var err error
		if k, ok := w.(sources.SameKeeper); ok && m.same {
			kept, err := k.KeepSame(ctx, e)
			if err != nil {
				return sources.Result{}, err
			}
			if kept {
				continue
			}
		}
		if m.keep[p] {
			if err := w.Keep(ctx, e); err != nil {
				return sources.Result{}, err
			}
			continue
		}
		if m.pieces {
			rest := data
			err = w.AddSpans(ctx, e, func() (sources.Span, error) {
				if len(rest) == 0 {
					return sources.Span{}, io.EOF
				}
				n := min(1000, len(rest))
				p := rest[:n]
				rest = rest[n:]
				return sources.Span{Data: p}, nil
			})
		} else if m.ranged != nil {
			err = w.Add(ctx, e, &rangedReader{Reader: bytes.NewReader(data), log: m.ranged})
		} else {
			err = w.Add(ctx, e, bytes.NewReader(data))
		}
		if err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{At: m.at}, nil
}

func newTestStore(t *testing.T) (*Store, backends.Backend, string) { return newTestStoreB(t) }

func newTestStoreB(t testing.TB) (*Store, backends.Backend, string) {
	t.Helper()
	cache := t.TempDir()
	st, be := newTestStoreIn(t, t.TempDir(), cache)
	return st, be, cache
}

// newTestStoreIn makes a store in the local directory dir (for tests that
// look at the files on disk) and opens it with its catalog in cache.
func newTestStoreIn(t testing.TB, dir, cache string) (*Store, backends.Backend) {
	t.Helper()
	ctx := context.Background()
	be, err := backends.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, be
}

func readAll(t *testing.T, st *Store, v Version, path string) []byte {
	t.Helper()
	f, err := st.Lookup(context.Background(), v, path)
	if err != nil {
		t.Fatal(err)
	}
	r := st.NewStreamReader(context.Background(), f)
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTripSizes(t *testing.T) {
	st, _, _ := newTestStore(t)
	sizes := []int{0, 1, 4095, 128<<10 - 1, 128 << 10, 128<<10 + 1, 512 << 10, 2<<20 - 1, 2 << 20, 2<<20 + 1, 5<<20 + 3}
	for _, pieces := range []bool{false, true} {
		files := map[string][]byte{}
		for i, n := range sizes {
			files[string(rune('a'+i))+"/f"] = randBytes(uint64(n), n)
		}
		src := &memSource{files: files, pieces: pieces}
		v, err := st.Backup(context.Background(), src, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range files {
			if got := readAll(t, st, v, p); !bytes.Equal(got, want) {
				t.Fatalf("pieces=%v %s: %d bytes back, want %d equal bytes", pieces, p, len(got), len(want))
			}
			// Random reads at odd offsets.
			f, _ := st.Lookup(context.Background(), v, p)
			r := st.OpenFile(f)
			for _, off := range []int64{0, 1, int64(len(want)) / 3, int64(len(want)) - 1} {
				if off < 0 || off >= int64(len(want)) {
					continue
				}
				buf := make([]byte, 70000)
				n, err := r.ReadAt(context.Background(), buf, off)
				if err != nil && !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				if !bytes.Equal(buf[:n], want[off:off+int64(n)]) || n != min(len(buf), len(want)-int(off)) {
					t.Fatalf("%s: ReadAt(%d) wrong", p, off)
				}
			}
			r.Close()
		}
	}
}

func TestSecondBackupStoresOnlyChanges(t *testing.T) {
	st, _, _ := newTestStore(t)
	files := map[string][]byte{"big": randBytes(9, 8<<20), "small": []byte("hello")}
	src := &memSource{files: files}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v1, err := st.Backup(context.Background(), src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	files["small"] = []byte("changed")
	src.keep = map[string]bool{"big": true}
	src.at = v1.Time // same second: the commit must move on, not overwrite
	v2, err := st.Backup(context.Background(), src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !v2.Time.After(v1.Time) {
		t.Fatalf("second version %s does not follow %s", v2.Time, v1.Time)
	}
	if v2.Stats.NewBytes > 1000 {
		t.Fatalf("second backup stored %d new bytes for a 7-byte change", v2.Stats.NewBytes)
	}
	if v1.Stats.ChangedFiles != 2 || v2.Stats.ChangedFiles != 1 {
		t.Errorf("changed files: %d then %d, want 2 (both new) then 1 (big kept)", v1.Stats.ChangedFiles, v2.Stats.ChangedFiles)
	}
	if string(readAll(t, st, v1, "small")) != "hello" || string(readAll(t, st, v2, "small")) != "changed" {
		t.Fatal("versions do not hold their own content")
	}
	d, err := st.Diff(context.Background(), &v1, v2)
	if err != nil {
		t.Fatal(err)
	}
	kids, _ := st.ReadDir(context.Background(), d.Version, "")
	if len(kids) != 1 || kids[0].Path != "small" || len(d.Deleted) != 0 {
		t.Fatalf("diff holds %v, deleted %v; want only small", kids, d.Deleted)
	}
}

func TestFailedPackUploadLeavesNoVersion(t *testing.T) {
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v1, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": randBytes(1, 3<<20)}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	fb := faulty.New(be)
	fb.FailPrefix(faulty.Put, "packs/", errors.New("injected: backend down"))
	st2, err := Open(ctx, fb, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	_, err = st2.Backup(ctx, &memSource{files: map[string][]byte{"a": randBytes(2, 3<<20)}}, obj, BackupOptions{})
	if err == nil {
		t.Fatal("backup succeeded with a failing backend")
	}
	vs, _ := st2.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "t"})
	if len(vs) != 1 || vs[0].Name != v1.Name {
		t.Fatalf("versions after a failed backup: %v", vs)
	}
	if got := readAll(t, st2, vs[0], "a"); !bytes.Equal(got, randBytes(1, 3<<20)) {
		t.Fatal("earlier version damaged")
	}
}

func TestConcurrentBackupsSameTable(t *testing.T) {
	st, _, _ := newTestStore(t)
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	at := time.Now().UTC().Truncate(time.Second)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.Backup(context.Background(), &memSource{files: map[string][]byte{"f": randBytes(uint64(i), 1<<20)}, at: at}, obj, BackupOptions{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	vs, _ := st.Versions(context.Background(), ObjectRef{Cluster: "c", Database: "d", Table: "t"})
	if len(vs) != 2 {
		t.Fatalf("%d versions, want 2", len(vs))
	}
	var got []string
	for _, v := range vs {
		got = append(got, string(readAll(t, st, v, "f")[:8]))
	}
	want := []string{string(randBytes(0, 8)), string(randBytes(1, 8))}
	sort.Strings(got)
	sort.Strings(want)
	if got[0] != want[0] || got[1] != want[1] {
		t.Fatal("the two versions do not hold the two sources' data")
	}
}

func TestRebuildGivesSameCatalog(t *testing.T) {
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	name := "odd\x01\xff name"
	src := &memSource{files: map[string][]byte{"dir/" + name: []byte("x"), "y": randBytes(5, 2<<20)}}
	v, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	vs, _ := st2.AllVersions(ctx)
	if len(vs) != 1 || vs[0].Name != v.Name || vs[0].Stats != v.Stats {
		t.Fatalf("rebuilt versions %v, want %v", vs, v)
	}
	kids, err := st2.ReadDir(ctx, vs[0], "dir")
	if err != nil || len(kids) != 1 || kids[0].Path != "dir/"+name {
		t.Fatalf("rebuilt dir listing %v %v", kids, err)
	}
	if !bytes.Equal(readAll(t, st2, vs[0], "y"), randBytes(5, 2<<20)) {
		t.Fatal("rebuilt catalog reads wrong bytes")
	}
}

func TestForgetPolicy(t *testing.T) {
	base := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var vs []Version
	for i := range 48 { // every 2 hours for 4 days
		vs = append(vs, Version{Time: base.Add(time.Duration(i) * 2 * time.Hour)})
	}
	kept := func(p Policy) int {
		n := 0
		for _, d := range p.Apply(vs) {
			if d.Keep {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		name string
		p    Policy
		want int
	}{
		{"last 3", Policy{Last: 3}, 3},
		{"hourly 5", Policy{Hourly: 5}, 5},
		{"daily 2", Policy{Daily: 2}, 2},
		{"daily 10 but 4 days", Policy{Daily: 10}, 4},
		{"within 10h", Policy{Within: 10 * time.Hour}, 5},
		{"last 1 + daily 4 overlap", Policy{Last: 1, Daily: 4}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := kept(tc.p); got != tc.want {
				t.Fatalf("kept %d, want %d", got, tc.want)
			}
		})
	}
	if !(Policy{}).Empty() {
		t.Fatal("empty policy not reported empty")
	}
}

// randBytes returns n reproducible pseudo-random (incompressible) bytes.
func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// A re-backup that changed nothing shares the previous version's catalog
// records instead of writing a copy; forgetting and pruning the version
// that wrote them leaves the re-backup whole, and a backup that changed
// something writes its own.
func TestNoChangeVersionSharesRecords(t *testing.T) {
	ctx := context.Background()
	st, be, _ := newTestStore(t)
	files := map[string][]byte{"a": randBytes(3, 300<<10), "dir/b": []byte("b"), "dir/c": []byte("c")}
	src := &memSource{files: files}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v1, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src.keep = map[string]bool{"a": true, "dir/b": true, "dir/c": true}
	v2, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src.keep = map[string]bool{"a": true, "dir/b": true}
	files["dir/c"] = []byte("changed")
	v3, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := Rebuild(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer rebuilt.Close()
	s := st
	for _, st := range []*Store{st, rebuilt} { // a rebuild (or another host's sync) shares them too
		own := func(v Version) bool {
			t.Helper()
			var own bool
			if err := st.withCatalog(ctx, func(c *catalog.Catalog) (err error) { own, err = c.OwnFiles(v); return err }); err != nil {
				t.Fatal(err)
			}
			return own
		}
		// A backup shares the previous version's; a rebuild, loading
		// versions in parallel, whichever it loaded first.
		if own(v1) == own(v2) || !own(v3) || (st == s && own(v2)) {
			t.Fatalf("own records: v1 %v, v2 %v, v3 %v; want one copy for the unchanged pair (the backup's: v1's), v3 its own", own(v1), own(v2), own(v3))
		}
	}
	if _, err := st.Forget(ctx, Policy{Last: 2}, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Prune(ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if vs, _ := st.AllVersions(ctx); len(vs) != 2 || vs[0].Name != v2.Name {
		t.Fatalf("versions after forgetting the first: %v", vs)
	}
	if !bytes.Equal(readAll(t, st, v2, "a"), files["a"]) || string(readAll(t, st, v2, "dir/c")) != "c" {
		t.Fatal("the shared version reads wrong bytes once the version that wrote its records is gone")
	}
	kids, err := st.ReadDir(ctx, v2, "dir")
	if err != nil || len(kids) != 2 {
		t.Fatalf("dir of the shared version: %v (%v)", kids, err)
	}
}
