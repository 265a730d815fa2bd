package backends_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabackup/strata/backends"
)

// diskFiles lists the regular files under dir, slash paths relative to it.
func diskFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, strings.TrimPrefix(p, dir+"/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// On local disk an object can be written in pieces and named at the end;
// what Commit publishes reads back whole, survives Sync, and an aborted
// object leaves nothing on disk.
func TestLocalStreamPut(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := backends.Retry(open(t, dir), 3) // passes streams through
	sp, ok := b.(backends.StreamPutter)
	if !ok {
		t.Fatal("local backend is not a StreamPutter")
	}
	w, ok, err := sp.CreateDeferred(ctx, "packs")
	if err != nil || !ok {
		t.Fatalf("CreateDeferred: ok=%v err=%v", ok, err)
	}
	var want []byte
	for i := range 100 {
		piece := []byte(fmt.Sprintf("piece %d;", i))
		want = append(want, piece...)
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(ctx, "packs/ab/streamed"); err != nil {
		t.Fatal(err)
	}
	w.Abort() // after Commit: nothing happens
	if err := b.(backends.DeferredPutter).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rc, err := b.Get(ctx, "packs/ab/streamed", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %q (err %v), want %q", got, err, want)
	}

	w2, _, err := sp.CreateDeferred(ctx, "packs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Write([]byte("never published")); err != nil {
		t.Fatal(err)
	}
	w2.Abort()
	if files := diskFiles(t, dir); len(files) != 1 || files[0] != "packs/ab/streamed" {
		t.Errorf("files on disk: %v, want [packs/ab/streamed]", files)
	}
	if err := w2.Commit(ctx, "packs/ab/late"); err == nil {
		t.Error("Commit after Abort succeeded")
	}
}

// Stores other than local disk decline, and the caller buffers.
func TestStreamPutDeclinedOffDisk(t *testing.T) {
	b := open(t, fmt.Sprintf(":memory:stream%d", rand.Uint64()))
	sp, ok := b.(backends.StreamPutter)
	if !ok {
		return // not offered at all: as good as declined
	}
	if w, ok, err := sp.CreateDeferred(context.Background(), "packs"); ok || err != nil || w != nil {
		t.Errorf("memory backend: CreateDeferred = %v, %v, %v; want nil, false, nil", w, ok, err)
	}
}
