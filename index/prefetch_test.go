package index

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// PrefetchFiles leaves each file's first chunk decoded in the shared
// cache, and reads after it return the stored bytes.
func TestPrefetchFiles(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	files := map[string][]byte{}
	for i := range 20 {
		files[fmt.Sprintf("d/f%02d", i)] = randBytes(uint64(i+1), 1000+i*300)
	}
	files["d/empty"] = nil
	v, err := st.Backup(ctx, &memSource{files: files}, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := st.ReadDir(ctx, v, "d")
	if err != nil {
		t.Fatal(err)
	}
	st.cache.clear()
	st.PrefetchFiles(ctx, list)
	chunked := 0
	for _, f := range list {
		if len(f.Chunks) == 0 {
			continue
		}
		chunked++
		if _, ok := st.cache.peek(f.Chunks[0].ID); !ok {
			t.Fatalf("%s: first chunk not in the cache after PrefetchFiles", f.Path)
		}
		r := st.OpenFile(f)
		buf := make([]byte, f.Size+10)
		n, _ := r.ReadAt(ctx, buf, 0)
		r.Close()
		if !bytes.Equal(buf[:n], files[f.Path]) {
			t.Fatalf("%s: read %d bytes after prefetch, not the stored %d", f.Path, n, len(files[f.Path]))
		}
	}
	if chunked != 20 {
		t.Fatalf("%d files with chunks, want 20", chunked)
	}
}
