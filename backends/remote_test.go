package backends_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/backends/backendtest"
)

func open2(location string) (backends.Backend, error) {
	return backends.Open(context.Background(), location)
}

func open(t testing.TB, location string) backends.Backend {
	t.Helper()
	b, err := backends.Open(context.Background(), location)
	if err != nil {
		t.Fatalf("open: %v", err) // not the location: it may hold secrets
	}
	return b
}

func TestLocalConformance(t *testing.T) {
	backendtest.Run(t, open(t, t.TempDir()))
}

func TestMemoryConformance(t *testing.T) {
	backendtest.Run(t, open(t, fmt.Sprintf(":memory:test%d", rand.Uint64())))
}

// TestLocalLeavesNoTemporaryFiles looks at the disk itself after Puts, a
// cancelled one included: only the objects may remain.
func TestLocalLeavesNoTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	ctx := context.Background()
	if err := b.Put(ctx, "packs/ab/one", []byte("one")); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_ = b.Put(cancelled, "packs/ab/two", []byte("two"))
	if files := diskFiles(t, dir); len(files) != 1 || files[0] != "packs/ab/one" {
		t.Errorf("files on disk: %v, want [packs/ab/one]", files)
	}
}

func TestOpenRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	b := open(t, "repo")
	if err := b.Put(context.Background(), "x", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "repo", "x")); err != nil {
		t.Errorf("object not under the relative directory: %v", err)
	}
	if b.Location() != filepath.Join(dir, "repo") {
		t.Errorf("Location() = %q, want the absolute path", b.Location())
	}
}

func TestRejectsBadNames(t *testing.T) {
	b := open(t, t.TempDir())
	for _, name := range []string{"", "/abs", "a/../b", "../up", "dir/", "a//b", "x/.strata-tmp-1-y"} {
		if err := b.Put(context.Background(), name, []byte("x")); err == nil {
			t.Errorf("put %q: no error", name)
		}
	}
}
