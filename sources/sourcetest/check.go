package sourcetest

import (
	"bytes"
	"path"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// checkEntries checks what the Writer cannot see entry by entry: a version
// has entries, and every parent that is an entry is a directory (parents
// that are not entries are implied).
func checkEntries(t *testing.T, w *Writer) {
	t.Helper()
	paths := w.Paths()
	if len(paths) == 0 {
		t.Fatal("the backup wrote no entries")
	}
	for _, p := range paths {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if e, ok := w.Entry(dir); ok && e.Type != sources.TypeDir {
				t.Errorf("%q lies under %q, which is not a directory (type %d)", p, dir, e.Type)
			}
		}
	}
}

// checkItems checks that each item is a file at its name with its data.
func checkItems(t *testing.T, w *Writer, items []Item) {
	t.Helper()
	for _, it := range items {
		e, ok := w.Entry(it.Name)
		switch {
		case !ok:
			t.Errorf("file %q missing from the version", it.Name)
		case e.Type != sources.TypeFile:
			t.Errorf("%q has type %d, want a file", it.Name, e.Type)
		case !bytes.Equal(w.Data(it.Name), it.Data):
			t.Errorf("file %q holds %d bytes, want its %d", it.Name, len(w.Data(it.Name)), len(it.Data))
		}
	}
}

// equalFiles reports whether two versions have the same paths, types and
// file contents.
func equalFiles(a, b *Version) bool {
	ea, eb := a.Entries(), b.Entries()
	if len(ea) != len(eb) {
		return false
	}
	for i := range ea {
		if ea[i].Path != eb[i].Path || ea[i].Type != eb[i].Type || !bytes.Equal(a.data[ea[i].Path], b.data[eb[i].Path]) {
			return false
		}
	}
	return true
}

// sameFiles fails the test, naming the first difference, unless a and b
// hold the same files.
func sameFiles(t *testing.T, a, b *Version) {
	t.Helper()
	if equalFiles(a, b) {
		return
	}
	for _, e := range a.Entries() {
		f, ok := b.Lookup(e.Path)
		switch {
		case !ok:
			t.Fatalf("%q is missing from the second version", e.Path)
		case f.Type != e.Type || !bytes.Equal(a.data[e.Path], b.data[e.Path]):
			t.Fatalf("%q differs in the second version (type %d, %d bytes; was type %d, %d bytes)",
				e.Path, f.Type, len(b.data[e.Path]), e.Type, len(a.data[e.Path]))
		}
	}
	t.Fatalf("the second version has %d entries, the first %d", len(b.Entries()), len(a.Entries()))
}

// contentBytes is the total size of a version's files.
func contentBytes(v *Version) int64 {
	var n int64
	for _, b := range v.data {
		n += int64(len(b))
	}
	return n
}
