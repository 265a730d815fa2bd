//go:build !cgo

package format

import (
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/stratabackup/strata/sources"
)

// Without cgo, everything is compressed by the Go encoder
// (klauspost/compress) at the level's nearest: slower, and about 1%
// (default) to 3% (fastest) larger on text than with the C library
// (chunkzstd_cgo.go), in the same format.

var goEncoders = map[string]func() *zstd.Encoder{
	CompressionFastest: newEncoder(zstd.SpeedFastest, sources.CPUs(), encoderWindow),
	CompressionDefault: newEncoder(zstd.SpeedDefault, sources.CPUs(), encoderWindow),
	CompressionBetter:  newEncoder(zstd.SpeedBetterCompression, sources.CPUs(), encoderWindow),
}

// encoderWindow is the Go encoders' match window: each keeps a history
// buffer of about twice the window for its life (Go's zstd default of
// 8 MiB made three encoders 24 MB of a backup's heap). Matches further
// back than 1 MiB inside a chunk (at most 2 MiB) are rare.
const encoderWindow = 1 << 20

// encoderFor returns the chunk encoder of level l (not off).
func encoderFor(l string) encoder {
	f, ok := goEncoders[l]
	if !ok {
		f = goEncoders[CompressionDefault]
	}
	return goEncoder{f()}
}

// metaEncoder compresses index files at fastest whatever the store's
// level, with the chunks' encoder of that level.
func metaEncoder() encoder { return encoderFor(CompressionFastest) }

// manifestEncoder compresses manifests at default: a manifest is mostly
// chunk ids in hex, where the fastest finds no matches and stores its
// blocks raw (110 random ids: 8,517 bytes at fastest, about 4,300 at
// default). One small encoder (one worker, 256 KiB window: ~1.4 MB).
func manifestEncoder() encoder { return goEncoder{smallManifestEncoder()} }

var smallManifestEncoder = newEncoder(zstd.SpeedDefault, 1, 256<<10)

type goEncoder struct{ e *zstd.Encoder }

func (g goEncoder) encode(dst, src []byte) ([]byte, bool) { return g.e.EncodeAll(src, dst[:0]), true }

// newEncoder returns the builder of a shared encoder of level lv for up
// to workers concurrent EncodeAll calls, built on first use.
func newEncoder(lv zstd.EncoderLevel, workers, window int) func() *zstd.Encoder {
	return sync.OnceValue(func() *zstd.Encoder {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(lv), zstd.WithEncoderConcurrency(workers), zstd.WithWindowSize(window), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false)) // BLAKE3 verifies
		return e
	})
}

// decodeChunk decodes a compressed chunk into dst's room with the Go
// decoder.
func decodeChunk(dst, blob []byte, _ int) ([]byte, error) { return goDecodeChunk(dst, blob) }
