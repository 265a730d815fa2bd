package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stratabackup/strata/index"
)

// largeCatalog has one version with n files in one directory.
func largeCatalog(n int) (*fakeCatalog, index.ObjectRef) {
	obj := index.ObjectRef{Cluster: "big", Database: "db", Table: "t"}
	files := make([]fakeFile, n)
	for i := range files {
		files[i] = fakeFile{path: fmt.Sprintf("many/f%06d", i), data: fmt.Sprint(i)}
	}
	c := newFakeCatalog()
	c.add(obj, t1, files...)
	return c, obj
}

func TestLargeDirectory(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 files")
	}
	const n = 100_000
	cat, obj := largeCatalog(n)
	dir := tablePath(mountTest(t, cat), obj, t1, "many")
	for round := range 2 { // the second listing may come from the kernel's cache
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != n {
			t.Fatalf("round %d: listed %d entries, want %d", round, len(es), n)
		}
		for i, e := range es {
			var st syscall.Stat_t
			if err := syscall.Lstat(filepath.Join(dir, e.Name()), &st); err != nil {
				t.Fatalf("lstat %s: %v", e.Name(), err)
			}
			if i == 4242 && st.Size != int64(len(fmt.Sprint(4242))) {
				t.Errorf("%s: size %d", e.Name(), st.Size)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "f099999"))
	if err != nil || string(b) != "99999" {
		t.Errorf("read f099999: %q, %v", b, err)
	}
}
