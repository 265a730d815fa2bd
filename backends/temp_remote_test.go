package backends_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
)

// The temporary objects plantTemporaries writes: one as an upload killed
// 20 minutes ago leaves it, one as an upload running now.
const (
	oldTemp   = "packs/ab/.strata-tmp-0123-abd"
	freshTemp = "packs/ab/.strata-tmp-4567-abe"
)

// plantTemporaries writes oldTemp and freshTemp under dir, the directory a
// remote serves as the backend's root, and returns dir.
func plantTemporaries(t *testing.T, dir string) string {
	t.Helper()
	old, fresh := filepath.Join(dir, oldTemp), filepath.Join(dir, freshTemp)
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	aged := time.Now().Add(-20 * time.Minute)
	if err := os.Chtimes(old, aged, aged); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testRemoveTemporary checks, through the remote b whose root is dir on
// this machine, that a dry run lists the old temporary and deletes
// nothing, and that the real run deletes exactly what the dry run listed
// and leaves the fresh one (an upload that may still be running) alone.
func testRemoveTemporary(t *testing.T, b backends.Backend, dir string) {
	ctx := context.Background()
	if err := b.Put(ctx, "packs/ab/abc", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	old, fresh := filepath.Join(dir, oldTemp), filepath.Join(dir, freshTemp)
	tr, ok := backends.Retry(b, 2).(backends.TempRemover)
	if !ok {
		t.Fatalf("%s has no TempRemover through Retry", b.Location())
	}
	want := []string{oldTemp}
	dry, err := tr.RemoveTemporary(ctx, "", 10*time.Minute, true)
	if err != nil || !slices.Equal(dry, want) {
		t.Fatalf("dry run lists %q (%v), want %q", dry, err, want)
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the dry run deleted %s: %v", oldTemp, err)
	}
	got, err := tr.RemoveTemporary(ctx, "", 10*time.Minute, false)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("removed %q (%v), want %q as the dry run listed", got, err, want)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("%s still there after RemoveTemporary (%v)", oldTemp, err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary (an upload in progress) was removed: %v", err)
	}
	if _, err := b.Stat(ctx, "packs/ab/abc"); err != nil {
		t.Errorf("the real object is gone: %v", err)
	}
}
