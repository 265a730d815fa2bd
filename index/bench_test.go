package index

import (
	"bytes"
	"context"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// BenchmarkBackup measures a first backup of 64 MiB of text-like and 64 MiB
// of random data into a local store (b.SetBytes: MB/s is the figure).
func BenchmarkBackup(b *testing.B) {
	text := bytes.Repeat([]byte("order 12345 shipped to customer 987 warehouse north\n"), 64<<20/52)
	for i := range text {
		if i%97 == 0 {
			text[i] = byte('a' + i%23)
		}
	}
	files := map[string][]byte{"text": text, "rand": randBytes(11, 64<<20)}
	b.SetBytes(int64(len(text) + 64<<20))
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		st, _, _ := newTestStoreB(b)
		b.StartTimer()
		if _, err := st.Backup(context.Background(), &memSource{files: files}, sources.Object{Cluster: "c", Database: "d", Table: "t"}, BackupOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
