package backends

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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
	tr := Retry(b, 2).(TempRemover)
	want := []string{"packs/ab/" + tempPrefix + "0123-abd"}
	dry, err := tr.RemoveTemporary(ctx, "", 10*time.Minute, true)
	if err != nil || !slices.Equal(dry, want) {
		t.Fatalf("dry run lists %q (%v), want %q", dry, err, want)
	}
	if _, err := os.Stat(old); err != nil {
		t.Fatalf("the dry run removed the stale temporary: %v", err)
	}
	got, err := tr.RemoveTemporary(ctx, "", 10*time.Minute, false)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("removed %q (%v), want %q, as the dry run said", got, err, want)
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
