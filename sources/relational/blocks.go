package relational

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
)

// Block checksums let a backup skip the parts of a table that did not
// change, where the database keeps no per-row version (MariaDB/MySQL; see
// blocks_backup.go for how a backup uses them). A table keyed by one
// integer column is cut, by key value, into blocks of about BlockRows
// rows; a version records, per block, its rows, its bytes in the data file
// and a checksum: the first 128 bits of SHA-256 over the encodings of its
// rows' values in key order, joined by NUL (MariaDB: each value as QUOTE
// writes it, the values joined by NUL, my_blocks.go).
// The next backup asks the server for the same checksum of each block at
// its snapshot; a block whose rows and checksum are equal is the previous
// file's bytes, referenced without reading a row.
//
// The checksum is a hash of the values, not of the line: both sides
// encode a row the same way, and the encoding is one-to-one (a row has a
// fixed number of values, and no value's encoding holds the NUL that
// separates them), so equal encodings mean equal values and thus equal
// lines. A false "unchanged" would need a SHA-256 collision, truncated to
// 128 bits: far below any other failure, and not something an accidental
// change produces (unlike CRC32 sums, which two rows changed by the same
// bits at the same place cancel out).

// blocksKey is the version metadata holding the block sums.
const blocksKey = "row_blocks"

// maxBlocks bounds how many blocks a version records (its metadata grows
// by about 50 bytes a block).
const maxBlocks = 16384

// blockLayout cuts an integer key into n blocks of width keys from base:
// block i holds base+i*width <= key < base+(i+1)*width, except that block
// 0 is open below and block n-1 open above.
type blockLayout struct {
	base, width int64
	n           int
}

// newBlockLayout cuts [lo, hi] into blocks of about blockRows of rows.
func newBlockLayout(lo, hi, rows, blockRows int64) blockLayout {
	span := uint64(hi) - uint64(lo) + 1 // hi >= lo; 0 is all 2^64 keys
	if span == 0 {
		span = math.MaxUint64
	}
	n := min(max((rows+blockRows-1)/blockRows, 1), maxBlocks)
	if uint64(n) > span {
		n = int64(span)
	}
	width := span / uint64(n)
	if span%uint64(n) != 0 {
		width++
	}
	if width > math.MaxInt64 {
		width = math.MaxInt64
	}
	return blockLayout{base: lo, width: int64(width), n: int(n)}
}

// block returns the block of key k.
func (l blockLayout) block(k int64) int {
	if k < l.base {
		return 0
	}
	i := (uint64(k) - uint64(l.base)) / uint64(l.width)
	return int(min(i, uint64(l.n-1)))
}

// lo is where block i starts (i > 0), at most the largest int64 (the
// blocks past it are empty).
func (l blockLayout) lo(i int) string {
	off := uint64(i) * uint64(l.width)
	if off/uint64(l.width) != uint64(i) || off > uint64(math.MaxInt64)-uint64(l.base) {
		return strconv.FormatInt(math.MaxInt64, 10)
	}
	return strconv.FormatInt(int64(uint64(l.base)+off), 10)
}

// ranges groups the blocks into about parts key ranges, each sending its
// rows' hashes to sums.
func (l blockLayout) ranges(parts int, sums *blockSums) []keyRange {
	parts = max(min(parts, l.n), 1)
	var out []keyRange
	for p := 0; p < parts; p++ {
		a, b := p*l.n/parts, (p+1)*l.n/parts
		out = append(out, l.span(a, b, sums))
	}
	return out
}

// span is the key range of blocks a to b-1.
func (l blockLayout) span(a, b int, sums *blockSums) keyRange {
	r := keyRange{sums: sums, block: -1}
	if a > 0 {
		r.Lo = []string{l.lo(a)}
	}
	if b < l.n {
		r.Hi = []string{l.lo(b)}
	}
	if b == a+1 {
		r.block = a
	}
	return r
}

// blockSum is what a version records of one block.
type blockSum struct {
	rows, bytes int64
	sum         [16]byte
}

// blockSums are a table's blocks being summed while its rows are read.
// Each block is read by one worker at a time (ranges hold whole blocks),
// so its entries need no lock.
type blockSums struct {
	layout blockLayout
	sums   []blockSum
	h      []hash.Hash
}

func newBlockSums(l blockLayout) *blockSums {
	return &blockSums{layout: l, sums: make([]blockSum, l.n), h: make([]hash.Hash, l.n)}
}

// add counts a row of block i: its line's length and its values'
// encoding.
func (s *blockSums) add(i int, enc []byte, lineLen int) {
	if s.h[i] == nil {
		s.h[i] = sha256.New()
	} else {
		s.h[i].Write([]byte{0})
	}
	s.h[i].Write(enc)
	s.sums[i].rows++
	s.sums[i].bytes += int64(lineLen)
}

// set records block i as unchanged from a previous version's b.
func (s *blockSums) set(i int, b blockSum) {
	s.h[i] = nil
	s.sums[i] = b
}

// finish completes the sums of the blocks read.
func (s *blockSums) finish() {
	for i, h := range s.h {
		if h != nil {
			copy(s.sums[i].sum[:], h.Sum(nil))
			s.h[i] = nil
		}
	}
}

// total returns the rows and bytes of every block.
func (s *blockSums) total() (rows, bytes int64) {
	for _, b := range s.sums {
		rows += b.rows
		bytes += b.bytes
	}
	return rows, bytes
}

const blocksPrefix = "b1"

// String is the metadata form: "b1 base width n" then one
// "rows bytes sum" per block, all separated by spaces ("-" for the sum of
// an empty block).
func (s *blockSums) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d %d %d", blocksPrefix, s.layout.base, s.layout.width, s.layout.n)
	for _, x := range s.sums {
		sum := "-"
		if x.rows > 0 {
			sum = hex.EncodeToString(x.sum[:])
		}
		fmt.Fprintf(&b, " %d %d %s", x.rows, x.bytes, sum)
	}
	return b.String()
}

// parseBlockSums reads String's form back.
func parseBlockSums(text string) (*blockSums, error) {
	f := strings.Fields(text)
	bad := fmt.Errorf("bad block sums %.60q", text)
	if len(f) < 4 || f[0] != blocksPrefix {
		return nil, bad
	}
	base, err1 := strconv.ParseInt(f[1], 10, 64)
	width, err2 := strconv.ParseInt(f[2], 10, 64)
	n, err3 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || err3 != nil || width <= 0 || n <= 0 || n > 2*maxBlocks || len(f) != 4+3*n {
		return nil, bad
	}
	s := newBlockSums(blockLayout{base: base, width: width, n: n})
	for i := range s.sums {
		x := f[4+3*i:]
		rows, err1 := strconv.ParseInt(x[0], 10, 64)
		size, err2 := strconv.ParseInt(x[1], 10, 64)
		if err1 != nil || err2 != nil || rows < 0 || size < 0 {
			return nil, bad
		}
		s.sums[i].rows, s.sums[i].bytes = rows, size
		if rows == 0 {
			continue
		}
		if sum, err := hex.DecodeString(x[2]); err != nil || len(sum) != 16 {
			return nil, bad
		} else {
			copy(s.sums[i].sum[:], sum)
		}
	}
	return s, nil
}
