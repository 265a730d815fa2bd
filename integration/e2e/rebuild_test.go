package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stratabackup/strata/index"
)

// TestIndexRebuild takes several versions of two objects, then throws the
// catalog away (rm -rf of STRATA_CACHE, and `strata index rebuild`): the
// version list and every byte of every version must come back unchanged,
// since the catalog is only a cache of the store.
func TestIndexRebuild(t *testing.T) {
	e := newEnv(t)
	a, b := e.path("a"), e.path("b")
	writeRandom(t, filepath.Join(a, "big"), 1, 3<<20)
	writeRandom(t, filepath.Join(a, "dir/small"), 2, 5000)
	writeRandom(t, filepath.Join(b, "x"), 3, 700<<10)
	e.backup("a", a)
	e.backup("b", b)
	// Change a file in place, add one, remove one.
	writeRandom(t, filepath.Join(a, "dir/small"), 4, 6000)
	writeRandom(t, filepath.Join(a, "dir/new"), 5, 300<<10)
	e.backup("a", a)
	if err := os.Remove(filepath.Join(a, "big")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir/new", filepath.Join(a, "link")); err != nil {
		t.Fatal(err)
	}
	e.backup("a", a)

	before := e.versions()
	if len(before) != 4 {
		t.Fatalf("want 4 versions, got %d: %+v", len(before), before)
	}
	sums := e.versionSums(before)
	latestA := -1
	for i, v := range before {
		if v.Object.Table == "a" && (latestA < 0 || v.Time.After(before[latestA].Time)) {
			latestA = i
		}
	}
	sameTree(t, "latest of a against its source", treeSums(t, a), sums[latestA])

	if err := os.RemoveAll(e.cache); err != nil {
		t.Fatal(err)
	}
	e.compareCatalog("after rm -rf STRATA_CACHE", before, sums)

	r := e.ok("index", "rebuild")
	t.Logf("index rebuild: %s", r.stdout)
	e.compareCatalog("after index rebuild", before, sums)
}

// versionSums restores every version and returns its tree sums.
func (e *env) versionSums(vs []index.Version) []map[string]string {
	e.t.Helper()
	out := make([]map[string]string, len(vs))
	for i, v := range vs {
		out[i] = treeSums(e.t, e.restore(v))
	}
	return out
}

func (e *env) compareCatalog(when string, wantVs []index.Version, wantSums []map[string]string) {
	e.t.Helper()
	got := e.versions()
	if !reflect.DeepEqual(got, wantVs) {
		e.t.Fatalf("%s: versions --json differ:\ngot  %+v\nwant %+v", when, got, wantVs)
	}
	for i, s := range e.versionSums(got) {
		sameTree(e.t, when+" "+spec(got[i]), wantSums[i], s)
	}
}
