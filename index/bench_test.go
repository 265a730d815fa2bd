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

// BenchmarkChunker measures content-defined chunking alone.
func BenchmarkChunker(b *testing.B) {
	data := randBytes(12, 64<<20)
	b.SetBytes(int64(len(data)))
	c := NewChunker(DefaultChunkerParams(1), bytes.NewReader(data))
	for i := 0; i < b.N; i++ {
		c.Reset(bytes.NewReader(data))
		for {
			if _, err := c.Next(); err != nil {
				break
			}
		}
	}
}

// BenchmarkHashCompress measures hashing and compressing one 256 KiB
// text-like chunk, the per-chunk work of a worker.
func BenchmarkHashCompress(b *testing.B) {
	chunk := bytes.Repeat([]byte("order 12345 shipped to customer 987 warehouse north\n"), 256<<10/52)
	b.SetBytes(int64(len(chunk)))
	var dst []byte
	for i := 0; i < b.N; i++ {
		_ = hashChunk(chunk)
		_, dst = encodeBlob(dst, chunk)
	}
}
