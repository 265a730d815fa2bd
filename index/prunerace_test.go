package index

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// hookSource is a memSource that runs during before it returns: the
// moment a stalled backup is in, with its chunks written but not
// committed.
type hookSource struct {
	*memSource
	during func()
}

func (h *hookSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	res, err := h.memSource.Backup(ctx, obj, prev, w)
	h.during()
	return res, err
}

// A backup whose lock was taken for stale (here: deleted, as a backup or
// prune of another host does after 5 minutes without a refresh) and
// that a prune ran under fails instead of committing a version whose
// chunks the prune may have deleted; the earlier version stays readable.
func TestBackupFailsWhenPrunedUnderIt(t *testing.T) {
	ctx := context.Background()
	st, be := newTestStoreIn(t, t.TempDir(), t.TempDir())
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	old := randBytes(1, 200<<10)
	v1, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": old}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &hookSource{memSource: &memSource{files: map[string][]byte{"a": old, "b": randBytes(2, 200<<10)}}, during: func() {
		if err := be.List(ctx, "locks/", func(oi backends.ObjectInfo) error { return be.Delete(ctx, oi.Name) }); err != nil {
			t.Error(err)
		}
		other, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Error(err)
			return
		}
		defer other.Close()
		if _, err := other.Prune(ctx, false, nil); err != nil {
			t.Error(err)
		}
	}}
	_, err = st.Backup(ctx, src, obj, BackupOptions{})
	if !errors.Is(err, errPrunedDuring) {
		t.Fatalf("backup pruned under: %v", err)
	}
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	vs, err := st.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "t"})
	if err != nil || len(vs) != 1 || vs[0].Name != v1.Name {
		t.Fatalf("versions after the failed backup: %v, %v", vs, err)
	}
	if res, err := st.Check(ctx, nil); err != nil || len(res.Damage) > 0 {
		t.Fatalf("check after the failed backup: %+v, %v", res.Damage, err)
	}
}

// A prune that died after writing a rewritten pack but before indexing it
// left that pack in the store, listed by no index. The next prune
// rewrites the same chunks into a pack of the same name (packs are
// named by content) and must not then delete it as unindexed.
func TestPruneKeepsAStrayPackItRewritesAgain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := newTestStoreIn(t, dir, t.TempDir())
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	a := randBytes(1, 100<<10)
	if _, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": a, "b": randBytes(2, 300<<10)}, at: time.Unix(1700000000, 0)}, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	v2, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": a}, at: time.Unix(1700000100, 0)}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Forget(ctx, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	// What the killed prune left: its rewritten pack, found by pruning a
	// copy of the store.
	before := packFiles(t, dir)
	cp := t.TempDir()
	if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	cbe, err := backends.Open(ctx, cp)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, cbe, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := other.Prune(ctx, false, nil)
	other.Close()
	if err != nil || res.PacksRewritten == 0 {
		t.Fatalf("prune of the copy: %+v, %v (want a rewrite)", res, err)
	}
	stray := 0
	for name := range packFiles(t, cp) {
		if !before[name] {
			data, err := os.ReadFile(filepath.Join(cp, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			stray++
		}
	}
	if stray == 0 {
		t.Fatal("the copy's prune wrote no new pack")
	}

	if _, err := st.Prune(ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := st.Check(ctx, nil); err != nil || len(res.Damage) > 0 {
		t.Fatalf("check after the second prune: %+v, %v", res.Damage, err)
	}
	if got := readAll(t, st, v2, "a"); !bytes.Equal(got, a) {
		t.Fatal("a reads wrong after the second prune")
	}
}

// packFiles lists the pack objects under a local store dir.
func packFiles(t *testing.T, dir string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	err := filepath.WalkDir(filepath.Join(dir, "packs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A rebuild killed while deleting the catalog left one that Pebble
// cannot open (its manifest names files gone); the next rebuild must
// replace it rather than fail on it, as every other command then does.
func TestRebuildReplacesABrokenCatalog(t *testing.T) {
	ctx := context.Background()
	cache := t.TempDir()
	st, be := newTestStoreIn(t, t.TempDir(), cache)
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": []byte("x")}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	manifests, _ := filepath.Glob(filepath.Join(cache, "*", "catalog", "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no catalog manifest found")
	}
	for _, m := range manifests {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Open(ctx, be, Options{CacheDir: cache}); err == nil {
		t.Fatal("a broken catalog opened")
	}
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatalf("rebuild over a broken catalog: %v", err)
	}
	defer st2.Close()
	if got := readAll(t, st2, v, "a"); string(got) != "x" {
		t.Fatalf("a reads %q after the rebuild", got)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "*", "catalog.removing-*")); len(left) > 0 {
		t.Fatalf("the old catalog is left: %v", left)
	}
}

// A reader whose catalog snapshot predates a prune in another process
// (a mount during the daemon's retention prune) finds a chunk whose pack
// was rewritten where it is now, instead of failing until its next
// periodic refresh.
func TestReadFollowsAPrunedPack(t *testing.T) {
	st, v2, a := prunedElsewhere(t)
	if got := readAll(t, st, v2, "a"); !bytes.Equal(got, a) {
		t.Fatal("a reads wrong after another process's prune")
	}
}

// The same for a restore, whose plan reads small files by pack: planned
// from the catalog as it was before another process's prune, it finds
// the chunks of a rewritten pack where they are now.
func TestRestoreFollowsAPrunedPack(t *testing.T) {
	st, v2, a := prunedElsewhere(t)
	target := t.TempDir()
	if _, err := st.Restore(context.Background(), v2, "", target, RestoreOptions{Verify: true}); err != nil {
		t.Fatalf("restore after another process's prune: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(target, "a")); err != nil || !bytes.Equal(got, a) {
		t.Fatalf("restored a: %v", err)
	}
}

// prunedElsewhere is a store whose version v2 holds a, in a pack shared
// with b of an earlier version that another process then forgot and
// pruned (rewriting the pack): st's catalog still has the old location.
func prunedElsewhere(t *testing.T) (st *Store, v2 Version, a []byte) {
	t.Helper()
	ctx := context.Background()
	st, be := newTestStoreIn(t, t.TempDir(), t.TempDir())
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	a = randBytes(1, 100<<10)
	if _, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": a, "b": randBytes(2, 300<<10)}, at: time.Unix(1700000000, 0)}, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	v2, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": a}, at: time.Unix(1700000100, 0)}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Forget(ctx, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	if res, err := other.Prune(ctx, false, nil); err != nil || res.PacksRewritten == 0 {
		t.Fatalf("prune: %+v, %v (want a's pack rewritten)", res, err)
	}
	return st, v2, a
}
