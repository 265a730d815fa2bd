package catalog

import (
	"bytes"
	"testing"
)

// DirBefore orders directories as their files' keys sort, which is how a
// scan of a version meets them.
func TestDirBeforeIsKeyOrder(t *testing.T) {
	dirs := []string{"", "a", "a-b", "a/b", "a/b/c", "a0", "ab", "b", "a/", "é", "a\x01"}
	var v vid
	for _, a := range dirs {
		for _, b := range dirs {
			want := bytes.Compare(fileKey(v, a, "\xff\xff"), fileKey(v, b, "")) < 0 && a != b
			if got := DirBefore(a, b); got != want {
				t.Errorf("DirBefore(%q, %q) = %v, want %v", a, b, got, want)
			}
		}
	}
}
