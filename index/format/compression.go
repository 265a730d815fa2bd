package format

import (
	"fmt"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/stratabackup/strata/sources"
)

// Compression levels of a store's chunks, chosen once at `strata init
// --compression` and recorded in its config so that every writer uses the
// same. Readers need none of this: a blob's type byte says zstd or raw.
// The levels trade a backup's CPU for store size; on JSON lines (the HDFS
// bench's data) "fastest" compresses about 1.6x faster than "default" for
// 6% more bytes, "better" about 2x slower for 6% fewer.
const (
	CompressionFastest = "fastest"
	CompressionDefault = "default" // zstd's SpeedDefault, the level stores had before the choice existed
	CompressionBetter  = "better"
	CompressionOff     = "off" // chunks stored raw
)

// CompressionLevels lists the levels `strata init --compression` takes.
func CompressionLevels() []string {
	return []string{CompressionFastest, CompressionDefault, CompressionBetter, CompressionOff}
}

// NewStoreCompression is the level of a store made without a choice:
// zstd's fastest, because compression was most of a first backup's CPU
// (about 80% on HDFS JSON lines and PostgreSQL rows), where "fastest"
// costs about 6% more bytes and made the HDFS first backup 1.4-2.8x as
// fast. Stores made before keep the level they were written with.
const NewStoreCompression = CompressionFastest

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

// encoders are the shared encoder of each zstd level, each built on first
// use; a backup's workers use them concurrently (EncodeAll is safe for
// that), with no lock on the way.
var encoders = map[string]func() *zstd.Encoder{
	CompressionFastest: newEncoder(zstd.SpeedFastest, sources.CPUs(), encoderWindow),
	CompressionDefault: newEncoder(zstd.SpeedDefault, sources.CPUs(), encoderWindow),
	CompressionBetter:  newEncoder(zstd.SpeedBetterCompression, sources.CPUs(), encoderWindow),
}

// encoderWindow is the encoders' match window: each encoder keeps a
// history buffer of about twice the window for its life (Go's zstd default
// of 8 MiB made three encoders 24 MB of a backup's heap). A chunk is at
// most 2 MiB (DefaultChunkerParams), but matches further back than 1 MiB
// inside one are rare: 1 MiB stored the kernel source tree and the bench's
// generated set in 0.1% and 0.01% fewer bytes than 2 MiB did, with 4 MB
// less peak RSS of the backup.
const encoderWindow = 1 << 20

// newEncoder returns the builder of a shared encoder of level lv for up
// to workers concurrent EncodeAll calls, built on first use.
func newEncoder(lv zstd.EncoderLevel, workers, window int) func() *zstd.Encoder {
	return sync.OnceValue(func() *zstd.Encoder {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(lv), zstd.WithEncoderConcurrency(workers), zstd.WithWindowSize(window), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false)) // BLAKE3 verifies
		return e
	})
}

// metaEncoder compresses index files: at fastest whatever the store's
// level, so that a backup into a store of the new-store level builds one
// level's encoders, not two (the default level's were about 5 MB of a
// backup's heap, there only for its index files). Decoding builds none.
func metaEncoder() *zstd.Encoder { return encoderFor(CompressionFastest) }

// manifestEncoder compresses manifests: at default, because a manifest is
// mostly its file list's chunk ids in hex, where zstd's fastest finds no
// matches and stores its blocks raw (110 random ids: 8,517 bytes at
// fastest, about 4,300 at default; a unit test's no-change version of
// 20,000 files stored up to 4.8 KB, 1.5-2.0 KB at default). One small
// encoder (one worker, 256 KiB window: ~1.4 MB) built on a process's
// first manifest; a manifest is written once per version.
var manifestEncoder = newEncoder(zstd.SpeedDefault, 1, 256<<10)

// encoderFor returns the shared encoder of level l, nil for off; any
// other level (Config.Level gives only known ones) is default's.
func encoderFor(l string) *zstd.Encoder {
	if l == CompressionOff {
		return nil
	}
	if f, ok := encoders[l]; ok {
		return f()
	}
	return encoders[CompressionDefault]()
}

// EncodeBlobLevel is EncodeBlob at compression level l (Config.Level):
// off stores the chunk raw.
func EncodeBlobLevel(l string, dst, chunk []byte) (typ byte, out []byte) {
	e := encoderFor(l)
	if e == nil {
		return blobRaw, append(dst[:0], chunk...)
	}
	out = e.EncodeAll(chunk, dst[:0])
	if len(out) >= len(chunk) {
		return blobRaw, append(dst[:0], chunk...)
	}
	return blobZstd, out
}
