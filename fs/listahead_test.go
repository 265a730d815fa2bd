package fs

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
)

// Listing a directory reads its subdirectories' listings ahead, each
// once: opening them afterwards asks the catalog nothing more. A path
// looked up alone (not shown in a listing) reads nothing ahead.
func TestListingReadsSubdirectoriesAhead(t *testing.T) {
	obj := index.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
	fake := newFakeCatalog()
	fake.add(obj, t1, fakeFile{path: "top/a/x", data: "1"}, fakeFile{path: "top/b/y", data: "2"}, fakeFile{path: "top/f", data: "3"})
	cat := &countingCatalog{fakeCatalog: fake}
	top := tablePath(mountTest(t, cat), obj, t1, "top")
	if got := names(t, top); len(got) != 3 {
		t.Fatalf("top lists %v", got)
	}
	ahead := func() bool { return cat.listings("top/a") == 1 && cat.listings("top/b") == 1 }
	for deadline := time.Now().Add(5 * time.Second); !ahead() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if !ahead() || cat.readDirs.Load() != 3 {
		t.Fatalf("listings after listing top: a %d, b %d, %d in all; want top's, then a and b read ahead, once each",
			cat.listings("top/a"), cat.listings("top/b"), cat.readDirs.Load())
	}
	for _, d := range []string{"a", "b"} {
		if got := names(t, filepath.Join(top, d)); len(got) != 1 {
			t.Fatalf("%s lists %v", d, got)
		}
	}
	if n := cat.readDirs.Load(); n != 3 {
		t.Fatalf("%d listings after opening a and b, want still 3: read ahead, then again", n)
	}
}
