package index

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// TestBackupUsesStoreCompression: a backup writes its new chunks at the
// level the store was created with (off: raw), and reads them back the
// same whatever the level.
func TestBackupUsesStoreCompression(t *testing.T) {
	ctx := context.Background()
	var text bytes.Buffer
	for i := 0; text.Len() < 1<<20; i++ {
		fmt.Fprintf(&text, `{"id":%d,"event":"order.shipped","warehouse":"oslo","qty":%d}`+"\n", i, i%7)
	}
	data := text.Bytes()
	for _, tc := range []struct {
		level          string
		minNew, maxNew int64
	}{
		{"off", int64(len(data)), int64(len(data)) + 4096},
		{"fastest", 1, int64(len(data)) / 3},
		{"default", 1, int64(len(data)) / 3},
	} {
		t.Run(tc.level, func(t *testing.T) {
			be, err := backends.Open(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := InitWith(ctx, be, InitOptions{Compression: tc.level}); err != nil {
				t.Fatal(err)
			}
			st, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			v, err := st.Backup(ctx, &memSource{files: map[string][]byte{"log.json": data}}, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if n := v.Stats.NewBytes; n < tc.minNew || n > tc.maxNew {
				t.Fatalf("stored %d new bytes for %d of text, want %d to %d", n, len(data), tc.minNew, tc.maxNew)
			}
			if got := readAll(t, st, v, "log.json"); !bytes.Equal(got, data) {
				t.Fatal("the file read back differs")
			}
		})
	}
}
