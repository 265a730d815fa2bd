package format

import (
	"bytes"
	"testing"
)

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
		_ = HashChunk(chunk)
		_, dst = EncodeBlob(dst, chunk)
	}
}
