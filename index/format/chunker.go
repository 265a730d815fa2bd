package format

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync"
	"unsafe"

	"github.com/zeebo/blake3"
)

// ChunkerParams are the content-defined chunking parameters of a store,
// fixed at init and recorded in its config: changing them would stop
// deduplication against existing chunks.
type ChunkerParams struct {
	Min  int    `json:"min"`
	Avg  int    `json:"avg"`
	Max  int    `json:"max"`
	Seed uint64 `json:"seed"` // selects the gear table, so chunk boundaries do not leak content across stores
}

// DefaultChunkerParams: 512 KiB average chunks. Measured on the bench's
// 2 GiB set against 256 KiB: the store is 0.2% smaller (zstd sees more
// context, fewer per-chunk headers and index entries) and reads are
// faster, for slightly coarser deduplication of changed files. Sources
// that know their record boundaries (MongoDB) write spans instead
// (Writer.AddSpans) and deduplicate by record.
func DefaultChunkerParams(seed uint64) ChunkerParams {
	return ChunkerParams{Min: 128 << 10, Avg: 512 << 10, Max: 2 << 20, Seed: seed}
}

func (p ChunkerParams) validate() error {
	if p.Min <= 0 || p.Avg < p.Min || p.Max < p.Avg || bits.OnesCount(uint(p.Avg)) != 1 {
		return fmt.Errorf("invalid chunker parameters min=%d avg=%d max=%d (avg must be a power of two between min and max)", p.Min, p.Avg, p.Max)
	}
	return nil
}

// gear is the FastCDC rolling-hash table derived from the seed.
type gear [256]uint64

func newGear(seed uint64) *gear {
	var g gear
	var key [8]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	h := blake3.New()
	_, _ = h.Write([]byte("strata gear table v1"))
	_, _ = h.Write(key[:])
	out := make([]byte, 8*256)
	_, _ = h.Digest().Read(out)
	for i := range g {
		g[i] = binary.LittleEndian.Uint64(out[i*8:])
	}
	return &g
}

// Chunker splits a stream into content-defined chunks with FastCDC's
// normalized chunking: a stricter mask below the average size and a looser
// one above it, so chunk sizes cluster around Avg.
type Chunker struct {
	p            ChunkerParams
	g, g2        *gear // g2[x] = g[x] << 1
	maskS, maskL uint64
	r            io.Reader
	buf          []byte
	small        []byte // buf unless a large stream lent it a big one
	start, end   int
	eof          bool
}

// NewChunker returns a chunker over r. The slices returned by Next are
// valid until the next call.
func NewChunker(p ChunkerParams, r io.Reader) *Chunker {
	c := &Chunker{p: p, g: newGear(p.Seed), small: make([]byte, min(chunkerStartBuf, p.maxBuf()))}
	c.buf = c.small
	c.g2 = new(gear)
	for i, v := range c.g {
		c.g2[i] = v << 1
	}
	b := bits.TrailingZeros(uint(p.Avg))
	c.maskS = spreadMask(b + 2)
	c.maskL = spreadMask(b - 2)
	c.Reset(r)
	return c
}

// Params returns the parameters the chunker cuts with.
func (c *Chunker) Params() ChunkerParams { return c.p }

// Reset starts over on a new stream, keeping the buffer.
func (c *Chunker) Reset(r io.Reader) {
	c.r, c.start, c.end, c.eof = r, 0, 0, false
}

// spreadMask returns a mask with n one bits spread over the high 48 bits,
// as FastCDC does, so that the cut condition depends on many bytes.
func spreadMask(n int) uint64 {
	var m uint64
	for i := 0; i < n; i++ {
		m |= 1 << (63 - uint(i)*48/uint(n))
	}
	return m
}

// Next returns the next chunk or io.EOF after the last one.
func (c *Chunker) Next() ([]byte, error) {
	if err := c.fill(); err != nil {
		return nil, err
	}
	n := c.end - c.start
	if n == 0 {
		return nil, io.EOF
	}
	cut := c.cut(c.buf[c.start:c.end])
	chunk := c.buf[c.start : c.start+cut]
	c.start += cut
	return chunk, nil
}

// Peek returns the next n bytes without cutting or consuming them, or
// nil when fewer than n remain; n is at most Params().Max. The slice is
// valid until the next call. A writer that knows where a stream's chunks
// were cut before (the previous version of a changed file) checks them
// with Peek and Advance instead of scanning for cuts again: a cut depends
// only on the bytes since the last one, so equal bytes from an equal
// start would be cut where they were.
func (c *Chunker) Peek(n int) ([]byte, error) {
	if n <= 0 || n > c.p.Max {
		return nil, nil
	}
	if err := c.fill(); err != nil {
		return nil, err
	}
	if c.end-c.start < n {
		return nil, nil
	}
	return c.buf[c.start : c.start+n], nil
}

// Advance consumes n bytes that Peek returned.
func (c *Chunker) Advance(n int) { c.start += min(n, c.end-c.start) }

func (c *Chunker) fill() error {
	if c.eof || c.end-c.start >= c.p.Max {
		return nil
	}
	if c.start > 0 {
		c.end = copy(c.buf, c.buf[c.start:c.end])
		c.start = 0
	}
	for !c.eof {
		if c.end == len(c.buf) {
			if len(c.buf) >= c.p.maxBuf() {
				break
			}
			c.grow()
		}
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if errors.Is(err, io.EOF) {
			c.eof = true
		} else if err != nil {
			return err
		}
	}
	return nil
}

// chunkerStartBuf is a chunker's own buffer; a longer stream borrows a
// big one (maxBuf) until Release: most files of a source tree are far
// smaller than a chunk, and every pooled chunker kept 4 MiB.
const chunkerStartBuf = 256 << 10

// Expect says the stream holds about size bytes: a stream longer than the
// chunker's small buffer gets a big one at once, rather than growing into
// it by doubling (four allocations, each zeroed, and three copies per
// large file: a twentieth of a backup's CPU on a source tree).
func (c *Chunker) Expect(size int64) {
	if size >= int64(len(c.buf)) && c.start == c.end && len(c.buf) < c.p.maxBuf() {
		c.buf = getBigBuf(c.p.maxBuf())
		c.start, c.end = 0, 0
	}
}

// Release hands a big buffer back for the next large stream; the chunker
// keeps its small one, so that pooled chunkers hold little. The slices
// Next returned are invalid after it.
func (c *Chunker) Release() {
	if len(c.buf) > len(c.small) {
		putBigBuf(c.buf)
		c.buf = c.small
	}
	c.start, c.end = 0, 0
}

// bigBufs are the buffers of chunkers reading large streams, maxBuf
// bytes each, shared by every chunker of the process.
var bigBufs sync.Pool

func getBigBuf(n int) []byte {
	if b, ok := bigBufs.Get().(*[]byte); ok && len(*b) == n {
		return *b
	}
	return make([]byte, n)
}

func putBigBuf(b []byte) { bigBufs.Put(&b) }

// maxBuf is the most a chunker buffers: Max for a cut to see the bytes
// it may need, and Max/2 more so that a refill (which moves what is left
// to the front) reads Max/2 or more at a time. 2*Max refilled half as
// often and held a third more memory per large file being read, with no
// difference in backup time.
func (p ChunkerParams) maxBuf() int { return p.Max + p.Max/2 }

// grow moves the buffered bytes into a big buffer (a stream whose size
// was not expected, or longer than expected).
func (c *Chunker) grow() {
	b := getBigBuf(c.p.maxBuf())
	copy(b, c.buf[:c.end])
	c.buf = b
}

func (c *Chunker) cut(b []byte) int {
	n := len(b)
	if n <= c.p.Min {
		return n
	}
	if n > c.p.Max {
		n = c.p.Max
	}
	normal := c.p.Avg
	if normal > n {
		normal = n
	}
	// Two bytes per step (FastCDC 2020's "rolling two bytes"): the hash
	// advances by both, through a pre-shifted table for the first, and the
	// cut test runs once per pair; range loops over subslices avoid
	// bounds checks.
	var fp uint64
	g, g2 := c.g, c.g2
	maskS, maskL := c.maskS, c.maskL
	i := c.p.Min
	for _, pair := range pairs(b[i:normal]) {
		fp = (fp << 2) + g2[pair[0]] + g[pair[1]]
		i += 2
		if fp&maskS == 0 {
			return i
		}
	}
	for _, pair := range pairs(b[i:n]) {
		fp = (fp << 2) + g2[pair[0]] + g[pair[1]]
		i += 2
		if fp&maskL == 0 {
			return i
		}
	}
	return n
}

// pairs views b as consecutive byte pairs (a trailing odd byte is left out:
// a cut never falls inside the last pair).
func pairs(b []byte) [][2]byte {
	return unsafe.Slice((*[2]byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/2)
}
