package index

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// TestRestoreReadsBlobsExactly: a restore's small blobs (here the short
// last chunk of a multi-chunk file) are read exactly, not through the
// Store's pack windows, which only held memory in a restore; a reader
// opened for the mount does use them, so the test tells the two apart.
func TestRestoreReadsBlobsExactly(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	long := randBytes(7, 6<<20)
	v, err := st.Backup(ctx, &memSource{files: map[string][]byte{"f": long}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := st.Lookup(ctx, v, "f")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Chunks) < 3 {
		t.Fatalf("%d chunks in 6 MiB, want at least 3", len(f.Chunks))
	}
	// Content-defined cuts depend only on the bytes before them: the
	// first two chunks and 1,000 bytes make a file whose last chunk is
	// small enough for a window.
	data := long[:int(f.Chunks[0].Size)+int(f.Chunks[1].Size)+1000]
	if v, err = st.Backup(ctx, &memSource{files: map[string][]byte{"f": data}}, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	if f, err = st.Lookup(ctx, v, "f"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Chunks); n != 3 || f.Chunks[2].Size != 1000 {
		t.Fatalf("chunks %+v, want 3 ending with one of 1000 bytes", f.Chunks)
	}
	st.windows.clear()
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := st.Restore(ctx, v, "", dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dst, "f")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("restored f: %d bytes, %v; want the %d stored", len(got), err, len(data))
	}
	if _, _, n := st.windows.usage(); n != 0 {
		t.Errorf("restore left %d pack windows in the Store's cache, want none", n)
	}
	r := st.OpenFile(f)
	defer r.Close()
	buf := make([]byte, 1000)
	if _, err := r.ReadAt(ctx, buf, f.Size-1000); err != nil || !bytes.Equal(buf, data[len(data)-1000:]) {
		t.Fatalf("read the last chunk through OpenFile: %v", err)
	}
	if _, _, n := st.windows.usage(); n == 0 {
		t.Errorf("a mount's reader read a 1,000-byte blob without a window: the check above proves nothing")
	}
}
