package hdfs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"hash/crc32"
)

// castagnoli is CRC32C, HDFS's default chunk checksum.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// summer computes, from the bytes of a file as they are read, each block's
// MD5 of its chunks' CRC32C: what a DataNode returns for the block from
// its checksum file, so that a later backup can compare a file with the
// recorded one by asking the DataNodes (a read of 1/128 of the data)
// instead of reading it. Only blocks read from their first byte get one.
type summer struct {
	blocks []blockPrint // md5 filled in as blocks end
	bpc    int64        // bytes per CRC
	pos    int64
	i      int
	active bool
	crc    uint32
	fill   int64
	h      hash.Hash
}

// newSummer sums blocks (a copy is kept) from offset start, with bpc
// bytes per CRC.
func newSummer(blocks []blockPrint, start int64, bpc int) *summer {
	s := &summer{blocks: append([]blockPrint(nil), blocks...), bpc: int64(bpc), pos: start, h: md5.New()}
	for s.i < len(s.blocks) && s.blocks[s.i].off+s.blocks[s.i].n <= start && s.blocks[s.i].n > 0 {
		s.i++
	}
	s.active = s.i < len(s.blocks) && s.blocks[s.i].off == start
	return s
}

// Write consumes the next bytes of the file.
func (s *summer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 && s.i < len(s.blocks) {
		b := s.blocks[s.i]
		k := min(int64(len(p)), b.off+b.n-s.pos)
		if s.active {
			s.feed(p[:k])
		}
		s.pos += k
		p = p[k:]
		if s.pos == b.off+b.n {
			s.endBlock()
		}
	}
	return n, nil
}

func (s *summer) feed(p []byte) {
	for len(p) > 0 {
		k := min(int64(len(p)), s.bpc-s.fill)
		s.crc = crc32.Update(s.crc, castagnoli, p[:k])
		s.fill += k
		p = p[k:]
		if s.fill == s.bpc {
			s.emit()
		}
	}
}

func (s *summer) emit() {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], s.crc)
	s.h.Write(b[:])
	s.crc, s.fill = 0, 0
}

func (s *summer) endBlock() {
	if s.active {
		if s.fill > 0 {
			s.emit()
		}
		s.blocks[s.i].md5 = hex.EncodeToString(s.h.Sum(nil))
	}
	s.h.Reset()
	s.crc, s.fill = 0, 0
	s.i++
	s.active = true
}

// fileChecksum combines block MD5s as colinmarc/hdfs's
// FileReader.Checksum does: the MD5 of the blocks' MD5s, zero-padded to a
// power of two of at least 32 bytes. False when a block's MD5 is unknown.
func fileChecksum(blocks []blockPrint) ([]byte, bool) {
	padded, total := 32, 0
	h := md5.New()
	for _, b := range blocks {
		sum, err := hex.DecodeString(b.md5)
		if b.md5 == "" || err != nil {
			return nil, false
		}
		h.Write(sum)
		total += len(sum)
		if padded < total {
			padded *= 2
		}
	}
	h.Write(make([]byte, padded-total))
	return h.Sum(nil), true
}
