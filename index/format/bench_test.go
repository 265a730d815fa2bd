package format

import (
	"bytes"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
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

// BenchmarkDecodeFileRecord decodes a posix file's line, as a re-backup
// loading its previous version and a mount listing a directory do for
// every entry.
func BenchmarkDecodeFileRecord(b *testing.B) {
	var id ID
	for i := range id {
		id[i] = byte(i * 7)
	}
	f := File{Entry: sources.Entry{Path: "drivers/gpu/drm/amd/display/dc/core/dc_resource.c", Type: sources.TypeFile, Mode: 0o644,
		ModTime: time.Date(2025, 6, 19, 11, 37, 12, 123456789, time.UTC), Size: 123456, Fingerprint: "123456:1750333032123456789:4242:1750333032123456789",
		Owner: &sources.Owner{UID: 1000, GID: 1000, User: "user", Group: "user"}}, Chunks: []ChunkRef{{ID: id, Size: 123456}}}
	rec := ToFileRecord(f)
	line, err := rec.AppendLine(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		var m FileRecord
		if err := DecodeFileRecord(line, &m); err != nil {
			b.Fatal(err)
		}
		_ = m.File()
	}
}
