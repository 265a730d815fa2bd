package format

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/stratabackup/strata/index/b3"
	"github.com/stratabackup/strata/sources"
)

// Blob encodings inside packs.
const (
	blobRaw  byte = 0 // stored as is: the chunk did not compress
	blobZstd byte = 1
	// BlobZstd is the type of a compressed blob, which DecodeBlobTo
	// decodes into its dst; a raw blob is returned as a slice of itself.
	BlobZstd = blobZstd
)

// decoder is shared by every read of compressed JSON, and of chunks where
// the C library is not built in (decodeChunk); encoders are per level
// (encoderFor).
var decoder = sync.OnceValue(func() *zstd.Decoder {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(sources.CPUs()), zstd.WithDecoderMaxMemory(8<<30))
	return d
})

// HashChunk returns a chunk's content address.
func HashChunk(b []byte) ID { return b3.Sum256(b) }

// EncodeBlob compresses a chunk into dst, or keeps it raw when zstd does
// not make it smaller: random data then costs one cheap failed attempt
// (zstd runs at ~1.6 GB/s on incompressible input) and no decompression on
// reads.
func EncodeBlob(dst, chunk []byte) (typ byte, out []byte) {
	return EncodeBlobLevel(CompressionDefault, dst, chunk)
}

// DecodeBlob turns a stored blob back into the chunk and verifies its hash.
func DecodeBlob(id ID, typ byte, blob []byte, rawLen int) ([]byte, error) {
	return DecodeBlobTo(nil, id, typ, blob, rawLen)
}

// decodeSlack is room past a chunk's end that the zstd decoder may write
// over: without it, it decodes a frame's last block (a small file's only
// one) with its careful copies, a third of the decoding time of a mount's
// tar of a source tree.
const decodeSlack = 64

// DecodeBlobTo is DecodeBlob decoding into dst when it has the room: a
// restore decodes thousands of small files' chunks one after another, and
// a fresh buffer for each was garbage the process's memory grew with.
func DecodeBlobTo(dst []byte, id ID, typ byte, blob []byte, rawLen int) ([]byte, error) {
	var chunk []byte
	switch typ {
	case blobRaw:
		chunk = blob
	case blobZstd:
		if cap(dst) < rawLen+decodeSlack {
			dst = make([]byte, 0, rawLen+decodeSlack)
		}
		var err error
		chunk, err = decodeChunk(dst, blob, rawLen)
		if err != nil {
			return nil, fmt.Errorf("decompress chunk %s: %w: %w", id, err, ErrUndecodable)
		}
	default:
		return nil, fmt.Errorf("chunk %s: unknown blob type %d: %w", id, typ, ErrUndecodable)
	}
	if len(chunk) != rawLen || HashChunk(chunk) != id {
		return nil, fmt.Errorf("chunk %s: %w", id, ErrCorrupt)
	}
	return chunk, nil
}

// goDecodeChunk decodes a compressed chunk with the Go decoder into dst's
// room (cap(dst) >= rawLen+decodeSlack).
func goDecodeChunk(dst, blob []byte) ([]byte, error) {
	return decoder().DecodeAll(blob, dst[:0])
}
