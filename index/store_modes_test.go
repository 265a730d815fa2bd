package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/sources"
)

// One Store, opened once, backs up, reads its version at once, sees what
// a second Store on the same cache directory (another process, as far as
// Pebble is concerned) backed up meanwhile after Refresh, then forgets and
// prunes: in every mode a daemon might use.
func TestOneStoreServesBackupReadsForgetPrune(t *testing.T) {
	for name, mode := range map[string]Mode{"snapshot": Snapshot, "detached": Detached, "held": Held} {
		t.Run(name, func(t *testing.T) { testOneStore(t, mode) })
	}
}

func testOneStore(t *testing.T, mode Mode) {
	ctx := context.Background()
	be, cache := newTestBackend(t)
	st, err := Open(ctx, be, Options{CacheDir: cache, Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	ref := ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	t0 := time.Unix(1700000000, 0).UTC()
	v1 := backupBytes(t, st, obj, t0, randBytes(1, 1<<20))
	if err := checkVersion(ctx, st, v1, randBytes(1, 1<<20)); err != nil {
		t.Fatalf("own version right after the backup: %v", err)
	}
	if mode == Held {
		// Held keeps the shared catalog: a second Store would wait for
		// it until Close. Go on with this one alone.
		v2 := backupBytes(t, st, obj, t0.Add(time.Hour), randBytes(2, 1<<20))
		forgetAndPrune(t, st, ref, v2, randBytes(2, 1<<20))
		return
	}
	other, err := Open(ctx, be, Options{CacheDir: cache, Mode: Detached})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var v2, v3 Version
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		v2, errs[0] = st.Backup(ctx, &memSource{files: map[string][]byte{"f": randBytes(2, 1<<20)}, at: t0.Add(time.Hour)}, obj, BackupOptions{})
	}()
	go func() {
		defer wg.Done()
		v3, errs[1] = other.Backup(ctx, &memSource{files: map[string][]byte{"f": randBytes(3, 1<<20)}, at: t0.Add(2 * time.Hour)}, obj, BackupOptions{})
	}()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion(ctx, st, v2, randBytes(2, 1<<20)); err != nil {
		t.Fatalf("own version right after a concurrent backup: %v", err)
	}
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion(ctx, st, v3, randBytes(3, 1<<20)); err != nil {
		t.Fatalf("the other Store's version after Refresh: %v", err)
	}
	forgetAndPrune(t, st, ref, v3, randBytes(3, 1<<20))
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := checkVersion(ctx, other, v3, randBytes(3, 1<<20)); err != nil {
		t.Fatalf("the other Store after the prune: %v", err)
	}
}

// forgetAndPrune keeps only the newest version (keep, holding want in
// "f") and prunes, then checks that st reads at once what is left.
func forgetAndPrune(t *testing.T, st *Store, ref ObjectRef, keep Version, want []byte) {
	t.Helper()
	ctx := context.Background()
	before, err := st.Versions(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forget(ctx, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	vs, err := st.Versions(ctx, ref)
	if err != nil || len(vs) != 1 || vs[0].Name != keep.Name {
		t.Fatalf("versions right after forget: %v %v, want only %s", vs, err, keep.Name)
	}
	if _, err := st.Lookup(ctx, before[0], "f"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("lookup in a forgotten version: %v, want ErrNotFound", err)
	}
	res, err := st.Prune(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.PacksDeleted == 0 {
		t.Fatalf("prune deleted no pack after forgetting %d versions: %+v", len(before)-1, res)
	}
	// A fresh chunk cache: the bytes must come from the packs that are left.
	st.cache = newChunkCache(st.opts.ChunkCacheBytes)
	if err := checkVersion(ctx, st, keep, want); err != nil {
		t.Fatalf("the kept version after prune: %v", err)
	}
	chk, err := st.Check(ctx, nil)
	if err != nil || len(chk.Damage) != 0 {
		t.Fatalf("check after prune: %v %+v", err, chk.Damage)
	}
}

// Reads go on while Refresh and backups replace the snapshot under them
// (run with -race); old snapshots are closed and removed once their
// readers are done, and Close removes the last.
func TestReadsDuringRefresh(t *testing.T) {
	ctx := context.Background()
	be, cache := newTestBackend(t)
	st, err := Open(ctx, be, Options{CacheDir: cache, Mode: Snapshot})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, be, Options{CacheDir: cache, Mode: Detached})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	t0 := time.Unix(1700000000, 0).UTC()
	v := backupBytes(t, st, obj, t0, randBytes(7, 1<<20))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := checkVersion(ctx, st, v, randBytes(7, 1<<20)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 8 {
		at := t0.Add(time.Duration(i+1) * time.Hour)
		if i%2 == 0 { // through the other Store: seen after Refresh
			nv := backupBytes(t, other, obj, at, randBytes(uint64(100+i), 4096))
			if err := st.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if vs, err := st.Versions(ctx, v.Object); err != nil || !containsVersion(vs, nv) {
				t.Fatalf("after Refresh, versions %v %v lack %s", vs, err, nv.Name)
			}
		} else { // through this one: seen at once
			backupBytes(t, st, obj, at, randBytes(uint64(100+i), 4096))
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := snapshotDirs(t, cache); n != 1 {
		t.Fatalf("%d snapshot directories with no reader left, want 1", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if n := snapshotDirs(t, cache); n != 0 {
		t.Fatalf("%d snapshot directories after Close", n)
	}
	if _, err := st.Versions(ctx, v.Object); !errors.Is(err, catalog.ErrClosed) {
		t.Fatalf("read after Close: %v, want errStoreClosed", err)
	}
}

// An idle Refresh keeps the snapshot (no copy), and a Detached Store that
// never reads takes none.
func TestSnapshotOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	be, cache := newTestBackend(t)
	st, err := Open(ctx, be, Options{CacheDir: cache, Mode: Detached})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	backupBytes(t, st, obj, time.Unix(1700000000, 0).UTC(), []byte("x"))
	if n := snapshotDirs(t, cache); n != 0 {
		t.Fatalf("%d snapshot directories after a backup alone", n)
	}
	if _, err := st.Objects(ctx); err != nil {
		t.Fatal(err)
	}
	first, _ := filepath.Glob(filepath.Join(cache, "*", "snapshot-*"))
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	again, _ := filepath.Glob(filepath.Join(cache, "*", "snapshot-*"))
	if len(first) != 1 || len(again) != 1 || first[0] != again[0] {
		t.Fatalf("snapshots %v, then %v after an idle Refresh; want one, kept", first, again)
	}
}

func newTestBackend(t *testing.T) (backends.Backend, string) {
	t.Helper()
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	return be, t.TempDir()
}

// backupBytes backs up one file "f" holding data as obj at at.
func backupBytes(t *testing.T, st *Store, obj sources.Object, at time.Time, data []byte) Version {
	t.Helper()
	v, err := st.Backup(context.Background(), &memSource{files: map[string][]byte{"f": data}, at: at}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkVersion reads v through every query a mount makes: it must be
// listed, walk to one file "f", and hold want there.
func checkVersion(ctx context.Context, st *Store, v Version, want []byte) error {
	vs, err := st.Versions(ctx, v.Object)
	if err != nil {
		return err
	}
	if _, ok := At(vs, v.Time); !ok || !containsVersion(vs, v) {
		return fmt.Errorf("%s not among the versions %v", v.Name, vs)
	}
	var paths []string
	if err := st.Walk(ctx, v, "", func(f File) error { paths = append(paths, f.Path); return nil }); err != nil {
		return err
	}
	if len(paths) != 1 || paths[0] != "f" {
		return fmt.Errorf("walk of %s: %v, want [f]", v.Name, paths)
	}
	f, err := st.Lookup(ctx, v, "f")
	if err != nil {
		return err
	}
	r := st.NewStreamReader(ctx, f)
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read f in %s: %w", v.Name, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("f in %s: %d bytes, not the %d backed up", v.Name, len(got), len(want))
	}
	return nil
}

func containsVersion(vs []Version, v Version) bool {
	for _, x := range vs {
		if x.Name == v.Name {
			return true
		}
	}
	return false
}

// snapshotDirs counts the private catalog copies in the cache directory.
func snapshotDirs(t *testing.T, cache string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(cache, "*", "snapshot-*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range m {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			n++
		}
	}
	return n
}

// A Detached Rebuild fills the catalog and leaves it to other Stores.
func TestDetachedRebuild(t *testing.T) {
	ctx := context.Background()
	be, cache := newTestBackend(t)
	st, err := Open(ctx, be, Options{CacheDir: cache, Mode: Detached})
	if err != nil {
		t.Fatal(err)
	}
	v := backupBytes(t, st, sources.Object{Cluster: "c", Database: "d", Table: "t"}, time.Unix(1700000000, 0).UTC(), []byte("x"))
	st.Close()
	rb, err := Rebuild(ctx, be, Options{CacheDir: cache, Mode: Detached})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	other, err := Open(ctx, be, Options{CacheDir: cache, Mode: Snapshot})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := checkVersion(ctx, other, v, []byte("x")); err != nil {
		t.Fatalf("after a detached rebuild: %v", err)
	}
}
