//go:build cgo

package format

import (
	dd "github.com/DataDog/zstd"

	"github.com/stratabackup/strata/sources"
)

// Chunks, manifests and index files are compressed by the zstd C library
// (libzstd 1.5.7, built from the sources github.com/DataDog/zstd carries)
// where cgo is available. Measured on 512 KiB chunks of the bench's JSON
// lines and on 20,000 files of the kernel source tree, one core, in two
// runs each against the Go encoder (klauspost/compress) used before:
//
//	JSON lines:   Go fastest 148-216 MB/s, 0.2440 of the input; Go default 100-140 MB/s, 0.2292
//	              C level 1  198-218 MB/s, 0.2444;              C level 3  182-245 MB/s, 0.2274
//	source files: Go fastest 121-126 MB/s, 0.3064; Go default 83-88 MB/s, 0.2898
//	              C level 1  165-178 MB/s, 0.2985; C level 3  140-166 MB/s, 0.2868
//
// So every level compresses faster and into fewer bytes than before, and
// C level 3 (default) is faster than the Go fastest while storing less
// than the Go default (restic 0.18's level). The frames are ordinary
// zstd: the Go decoder reads them, and stores written before read as
// they did.

// cLevels are the C library's levels of a store's levels: 1 and 3 are
// zstd's own fastest regular and default levels, 7 about what the Go
// encoder's "better" was.
var cLevels = map[string]int{CompressionFastest: 1, CompressionDefault: 3, CompressionBetter: 7}

// encoderFor returns the chunk encoder of level l (not off); a level this
// code does not know (Config.Level gives none) is default's.
func encoderFor(l string) encoder {
	lv, ok := cLevels[l]
	if !ok {
		lv = cLevels[CompressionDefault]
	}
	return cEncoder(lv)
}

// metaEncoder compresses index files and manifestEncoder manifests, both
// at level 3 whatever the store's level: written a few times a backup,
// and mostly chunk ids in hex, where the Go fastest found no matches and
// stored blocks raw (110 random ids: 8,517 bytes).
func metaEncoder() encoder     { return cEncoder(3) }
func manifestEncoder() encoder { return cEncoder(3) }

// ctxPool holds idle C contexts, each reused from one buffer to the
// next (a compression context keeps its tables, about 1 MB at level 3);
// one taken while all are busy is made then, and kept if there is room,
// else left to its finalizer. Peak RSS with the C library depends on
// glibc's arenas more than on the contexts: see cmd/strata/malloc_linux.go.
type ctxPool chan dd.Ctx

func (p ctxPool) get() dd.Ctx {
	select {
	case c := <-p:
		return c
	default:
		return dd.NewCtx()
	}
}

func (p ctxPool) put(c dd.Ctx) {
	select {
	case p <- c:
	default:
	}
}

// cContexts compress, dContexts decompress (about 100 KB each: a chunk is
// decoded straight into its buffer, with no window of the context's).
var cContexts, dContexts = make(ctxPool, 2*sources.CPUs()), make(ctxPool, 2*sources.CPUs())

// cEncoder compresses at its level with a pooled C context.
type cEncoder int

func (e cEncoder) encode(dst, src []byte) ([]byte, bool) {
	// CompressLevel writes from dst[0] when dst has the room for zstd's
	// worst case and into a new buffer otherwise: grow a caller's reused
	// buffer once, with room to spare, rather than by every larger chunk.
	if n := dd.CompressBound(len(src)); cap(dst) < n {
		dst = make([]byte, 0, n+n/4)
	}
	c := cContexts.get()
	out, err := c.CompressLevel(dst[:0], src, int(e))
	cContexts.put(c)
	return out, err == nil
}

// decodeChunk decodes a compressed chunk of rawLen bytes into dst's room
// (cap(dst) >= rawLen) with the C library: 0-15% faster than the Go
// decoder on the bench's JSON lines and kernel source files, and the
// mount's reads of compressed files are bound by decoding. A frame that
// does not decode to exactly rawLen bytes is an error.
func decodeChunk(dst, blob []byte, rawLen int) ([]byte, error) {
	if rawLen == 0 || len(blob) == 0 {
		return goDecodeChunk(dst, blob) // the C call needs a byte to point at
	}
	c := dContexts.get()
	n, err := c.DecompressInto(dst[:rawLen], blob)
	dContexts.put(c)
	if err != nil {
		return nil, err
	}
	return dst[:n], nil
}
