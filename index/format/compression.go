package format

import (
	"fmt"
	"strings"
	"sync"
)

// Compression levels of a store's chunks, chosen once at `strata init
// --compression` and recorded in its config so that every writer uses the
// same. Readers need none of this: a blob's type byte says zstd or raw.
// The levels trade a backup's CPU for store size: with the C library
// (chunkzstd_cgo.go) "fastest" is zstd's level 1, up to a quarter faster
// than "default" (level 3) on small source files and as fast on JSON
// lines, for 4-7% more bytes; "better" (level 7) is about 2x slower.
const (
	CompressionFastest = "fastest"
	CompressionDefault = "default" // zstd's level 3, the level stores had before the choice existed
	CompressionBetter  = "better"
	CompressionOff     = "off" // chunks stored raw
)

// CompressionLevels lists the levels `strata init --compression` takes.
func CompressionLevels() []string {
	return []string{CompressionFastest, CompressionDefault, CompressionBetter, CompressionOff}
}

// NewStoreCompression is the level of a store made without a choice:
// default, which with the C library compresses as fast as the Go
// encoder's fastest did (the new-store level from stop 20 to 33, chosen
// because compression was most of a first backup's CPU) into 6-7% fewer
// bytes, fewer than restic 0.18 stores. Stores made before keep the level
// they were written with.
const NewStoreCompression = CompressionDefault

// ParseCompression checks a level given by a user; "" is the level of a
// new store.
func ParseCompression(s string) (string, error) {
	if s == "" {
		return NewStoreCompression, nil
	}
	for _, l := range CompressionLevels() {
		if s == l {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown compression %q: one of %s", s, strings.Join(CompressionLevels(), ", "))
}

// Level is the compression level the store's chunks are written with.
// Stores made before the choice existed say "zstd" and no level: default.
func (c Config) Level() string {
	if c.Compression == "none" {
		return CompressionOff
	}
	if c.CompressionLevel == "" {
		return CompressionDefault
	}
	return c.CompressionLevel
}

// setLevel records level l (valid) in the config's fields.
func (c *Config) setLevel(l string) {
	c.Compression, c.CompressionLevel = "zstd", ""
	switch l {
	case CompressionOff:
		c.Compression = "none"
	case CompressionFastest, CompressionBetter:
		c.CompressionLevel = l
	}
}

// checkCompression refuses a config whose compression this code does not
// know how to write (a newer strata's level), rather than write chunks
// at another level than the store asks for.
func (c Config) checkCompression() error {
	if c.Compression != "zstd" && c.Compression != "none" {
		return fmt.Errorf("store config: unknown compression %q (a newer strata wrote it?)", c.Compression)
	}
	if _, err := ParseCompression(c.CompressionLevel); err != nil || c.CompressionLevel == CompressionOff {
		return fmt.Errorf("store config: unknown compression_level %q (a newer strata wrote it?)", c.CompressionLevel)
	}
	return nil
}

// encoder compresses one buffer into dst's room (or a new buffer); false
// when it could not (a chunk is then stored raw).
type encoder interface {
	encode(dst, src []byte) ([]byte, bool)
}

// EncodeBlobLevel is EncodeBlob at compression level l (Config.Level):
// off stores the chunk raw, as does a chunk whose samples do not compress
// (incompressible).
func EncodeBlobLevel(l string, dst, chunk []byte) (typ byte, out []byte) {
	if l == CompressionOff || incompressible(chunk) {
		return blobRaw, append(dst[:0], chunk...)
	}
	out, ok := encoderFor(l).encode(dst, chunk)
	if !ok || len(out) >= len(chunk) {
		return blobRaw, append(dst[:0], chunk...)
	}
	return blobZstd, out
}

// A chunk of random bytes (compressed or encrypted data, media) is stored
// raw anyway, and zstd took longer to find that out than to compress text:
// level 3 ran at 160 MB/s on 1 MiB of random bytes and 202 MB/s on JSON
// lines. A chunk is now first judged by samples, compressed at the
// fastest level: when none shrinks, the chunk is stored raw (1 MiB of
// random bytes at 4.9 GB/s, text as before: 223 MB/s). The first backup of
// the bench's generated set (2 GiB, half of it random) took 9.8-11.2 s
// instead of 11.1-12.8 s, alternating, with the same store size.

// Sampling: sampleCount samples of sampleSize bytes, from a chunk's start
// to its end, of a chunk of at least sampleMinChunk bytes (a smaller one
// is compressed whole).
const (
	sampleCount    = 5
	sampleSize     = 4 << 10
	sampleMinChunk = 64 << 10
)

// incompressibleRatio is, in percent, the compressed size of a sample
// from which it is taken as incompressible: zstd's frame and block
// headers alone are a percent or two of a 4 KiB sample that does not
// compress.
const incompressibleRatio = 97

// samplePool holds the buffers samples are compressed into.
var samplePool = sync.Pool{New: func() any { b := make([]byte, 0, 2*sampleSize); return &b }}

// incompressible reports whether every sample of chunk compresses to
// incompressibleRatio percent of its size or more: a chunk with a part
// that compresses is compressed whole. Text stops at the first sample.
// Chunks too small to sample are not.
func incompressible(chunk []byte) bool {
	if len(chunk) < sampleMinChunk {
		return false
	}
	bp := samplePool.Get().(*[]byte)
	defer samplePool.Put(bp)
	enc := encoderFor(CompressionFastest)
	for i := range sampleCount {
		off := (len(chunk) - sampleSize) * i / (sampleCount - 1)
		s := chunk[off : off+sampleSize]
		c, ok := enc.encode((*bp)[:0], s)
		if !ok || len(c)*100 < len(s)*incompressibleRatio {
			return false
		}
		*bp = c[:0]
	}
	return true
}
