package backends

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRemoveTemporaryDeletesOnlyStaleTemporaries(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	b, err := Open(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, "packs/ab/abc", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(root, "packs", "ab", tempPrefix+"0123-abd")
	fresh := filepath.Join(root, "packs", "ab", tempPrefix+"4567-abe")
	for _, p := range []string{old, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	n, err := Retry(b, 2).(TempRemover).RemoveTemporary(ctx, "", 10*time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("removed %d (%v), want the one stale temporary", n, err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Fatal("stale temporary still there")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Fatal("a fresh temporary (an upload in progress) was removed")
	}
	if _, err := b.Stat(ctx, "packs/ab/abc"); err != nil {
		t.Fatalf("the real object is gone: %v", err)
	}
}
