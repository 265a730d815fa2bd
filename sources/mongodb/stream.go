package mongodb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
)

// maxDocLen bounds a document read from a .bson stream: the server's 16 MiB
// plus headroom for documents written by servers with larger limits.
const maxDocLen = 64 << 20

// docReader reads concatenated BSON documents (a mongodump .bson file).
type docReader struct {
	r   *bufio.Reader
	buf []byte
	off int64
}

func newDocReader(r io.Reader) *docReader {
	return &docReader{r: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next document, or io.EOF at a clean end. The returned
// slice is valid until the following call.
func (d *docReader) next() (bson.Raw, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(d.r, hdr[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read document length at offset %d: %w", d.off, err)
	}
	n := int(binary.LittleEndian.Uint32(hdr[:]))
	if n < 5 || n > maxDocLen {
		return nil, fmt.Errorf("bad document length %d at offset %d", n, d.off)
	}
	if cap(d.buf) < n {
		d.buf = make([]byte, n)
	}
	d.buf = d.buf[:n]
	copy(d.buf, hdr[:])
	if _, err := io.ReadFull(d.r, d.buf[4:]); err != nil {
		return nil, fmt.Errorf("read document at offset %d: %w", d.off, noEOF(err))
	}
	d.off += int64(n)
	return bson.Raw(d.buf), nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// idValue returns the raw _id value of a document (type byte and value
// bytes), the key by which documents are ordered, chunked and compared.
func idValue(doc bson.Raw) (bson.RawValue, error) {
	v, err := doc.LookupErr("_id")
	if err != nil {
		return bson.RawValue{}, fmt.Errorf("document without _id: %w", err)
	}
	return v, nil
}

func bsonType(b byte) bsontype.Type { return bsontype.Type(b) }
