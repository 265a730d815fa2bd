package format

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/b3"
)

// Pack layout: blobs concatenated, then a header with one 41-byte record per
// blob (type, chunk id, stored length, raw length; offsets are implied by
// order), then the header's length (uint32 LE) and the magic "STRP1\n\x00\x00".
// The trailing header lets `index rebuild` recover a pack's contents from
// the pack alone.
const (
	packMagic      = "STRP1\n\x00\x00"
	packRecordSize = 1 + 32 + 4 + 4
	packTrailer    = 4 + len(packMagic)
	// PackTarget is the size at which a pack is closed and uploaded: large
	// enough that object stores see few requests, small enough that two
	// uploads in flight cost little memory.
	PackTarget = 16 << 20
)

// BlobLoc says where a chunk lives.
type BlobLoc struct {
	Pack   ID     `json:"pack"`
	Type   byte   `json:"type"`
	Offset uint32 `json:"offset"`
	Length uint32 `json:"length"`
	RawLen uint32 `json:"raw_len"`
}

// PackBlob is one blob of a pack being built or read.
type PackBlob struct {
	ID     ID     `json:"id"`
	Type   byte   `json:"type"`
	Offset uint32 `json:"offset"`
	Length uint32 `json:"length"`
	RawLen uint32 `json:"raw_len"`
}

// PackName is a pack's backend name: packs/<2 hex>/<id>.
func PackName(id ID) string {
	h := hex.EncodeToString(id[:])
	return "packs/" + h[:2] + "/" + h
}

// ParsePackName reads a pack's id back from its backend name.
func ParsePackName(name string) (ID, bool) {
	var id ID
	base := name[bytes.LastIndexByte([]byte(name), '/')+1:]
	b, err := hex.DecodeString(base)
	if err != nil || len(b) != 32 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

// PackBuilder accumulates blobs for one pack, in memory or, made by
// NewPackStream, written straight to the backend's object.
type PackBuilder struct {
	buf   *bytes.Buffer // in memory; nil when streaming
	obj   backends.ObjectWriter
	w     *bufio.Writer // streaming: buffers the writes to obj and h
	h     *b3.Hasher    // streaming: hashes what w writes to obj
	n     int           // bytes of blobs added
	err   error         // first write error of a stream
	blobs []PackBlob
}

// packBufs recycles pack buffers: a fresh 18 MiB buffer per pack cost a
// page fault per 4 KiB written.
var packBufs = sync.Pool{New: func() any {
	b := new(bytes.Buffer)
	b.Grow(PackTarget + 2<<20) // one allocation per pack, no regrowth
	return b
}}

// streamBufs recycle the write buffers of streamed packs: a small file's
// blob is a few KB, one write each would be a system call each.
var streamBufs = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 1<<20) }}

// NewPackBuilder starts an empty pack in memory; Release returns its buffer.
func NewPackBuilder() *PackBuilder {
	buf := packBufs.Get().(*bytes.Buffer)
	buf.Reset()
	return &PackBuilder{buf: buf}
}

// NewPackStream starts an empty pack written to obj as blobs are added;
// Finish completes it, and the caller commits obj under the returned id's
// PackName (or aborts it).
func NewPackStream(obj backends.ObjectWriter) *PackBuilder {
	// The hash sits behind the buffer, as the object does: it gets the
	// buffer's 1 MiB writes, not one call per blob and per 41-byte header
	// record (a cgo call each, and too short for BLAKE3's SIMD kernels).
	h := b3.New()
	w := streamBufs.Get().(*bufio.Writer)
	w.Reset(io.MultiWriter(obj, h))
	return &PackBuilder{obj: obj, w: w, h: h}
}

// Object is a streamed pack's object, nil for one in memory.
func (p *PackBuilder) Object() backends.ObjectWriter { return p.obj }

// Release returns the builder's buffers once its bytes are no longer
// needed.
func (p *PackBuilder) Release() {
	if p.buf != nil {
		packBufs.Put(p.buf)
		p.buf = nil
	}
	if p.w != nil {
		p.w.Reset(nil)
		streamBufs.Put(p.w)
		p.w = nil
	}
}

// Add appends one encoded blob (see EncodeBlob) of chunk id. A stream's
// write error is kept and returned by Finish.
func (p *PackBuilder) Add(id ID, typ byte, blob []byte, rawLen int) {
	p.blobs = append(p.blobs, PackBlob{ID: id, Type: typ, Offset: uint32(p.n), Length: uint32(len(blob)), RawLen: uint32(rawLen)})
	p.n += len(blob)
	p.write(blob)
}

func (p *PackBuilder) write(b []byte) {
	if p.buf != nil {
		p.buf.Write(b)
		return
	}
	if p.err != nil {
		return
	}
	_, p.err = p.w.Write(b)
}

// Len is the size of the blobs added so far.
func (p *PackBuilder) Len() int { return p.n }

// Size is the pack's size once finished: blobs, header and trailer.
func (p *PackBuilder) Size() int { return p.n + len(p.blobs)*packRecordSize + packTrailer }

// Blobs are the blobs added so far, in order.
func (p *PackBuilder) Blobs() []PackBlob { return p.blobs }

// Finish appends the header and returns the pack's id and, for a pack in
// memory, its bytes; for a stream, the first write error.
func (p *PackBuilder) Finish() (ID, []byte, error) {
	var rec [packRecordSize]byte
	for _, b := range p.blobs {
		rec[0] = b.Type
		copy(rec[1:33], b.ID[:])
		binary.LittleEndian.PutUint32(rec[33:], b.Length)
		binary.LittleEndian.PutUint32(rec[37:], b.RawLen)
		p.write(rec[:])
	}
	var tr [packTrailer]byte
	binary.LittleEndian.PutUint32(tr[:], uint32(len(p.blobs)*packRecordSize))
	copy(tr[4:], packMagic)
	p.write(tr[:])
	if p.buf != nil {
		data := p.buf.Bytes()
		return b3.Sum256(data), data, nil
	}
	if p.err == nil {
		p.err = p.w.Flush()
	}
	var id ID
	p.h.Sum(id[:0])
	return id, nil, p.err
}

// PackHeader reads the trailing header of a whole pack: check uses it
// to confirm that the pack holds what the index says.
func PackHeader(name string, data []byte) ([]PackBlob, error) {
	size := int64(len(data))
	if size < int64(packTrailer) || string(data[size-8:]) != packMagic {
		return nil, fmt.Errorf("pack %s: no pack trailer: %w", name, ErrCorrupt)
	}
	hlen := int64(binary.LittleEndian.Uint32(data[size-int64(packTrailer):]))
	if hlen%packRecordSize != 0 || hlen > size-int64(packTrailer) {
		return nil, fmt.Errorf("pack %s: bad header length %d: %w", name, hlen, ErrCorrupt)
	}
	start := size - int64(packTrailer) - hlen
	return parsePackHeader(name, data[start:start+hlen], start)
}

func parsePackHeader(name string, hdr []byte, dataLen int64) ([]PackBlob, error) {
	blobs := make([]PackBlob, 0, len(hdr)/packRecordSize)
	var off int64
	for i := 0; i+packRecordSize <= len(hdr); i += packRecordSize {
		r := hdr[i : i+packRecordSize]
		b := PackBlob{Type: r[0], Offset: uint32(off), Length: binary.LittleEndian.Uint32(r[33:]), RawLen: binary.LittleEndian.Uint32(r[37:])}
		copy(b.ID[:], r[1:33])
		off += int64(b.Length)
		blobs = append(blobs, b)
	}
	if off != dataLen {
		return nil, fmt.Errorf("pack %s: header describes %d bytes of blobs, pack holds %d: %w", name, off, dataLen, ErrCorrupt)
	}
	return blobs, nil
}

// ReadRange reads length bytes of name from off (all of it from off when
// length is negative).
func ReadRange(ctx context.Context, be backends.Backend, name string, off, length int64) ([]byte, error) {
	return ReadRangeTo(ctx, be, name, off, length, nil)
}

// ReadRangeTo is ReadRange into buf when length fits its capacity.
func ReadRangeTo(ctx context.Context, be backends.Backend, name string, off, length int64, buf []byte) ([]byte, error) {
	rc, err := be.Get(ctx, name, off, length)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	defer rc.Close()
	if length >= 0 {
		if int64(cap(buf)) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		_, err = io.ReadFull(rc, buf)
	} else {
		buf, err = io.ReadAll(rc)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %d: %w", name, off, err)
	}
	return buf, nil
}
