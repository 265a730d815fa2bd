package mongodb

import (
	"errors"
	"hash/fnv"
	"io"

	"go.mongodb.org/mongo-driver/bson"
)

// DefaultChunkMinBytes is the default lower bound of a .bson piece.
//
// Why these boundaries: after updating a fraction u of the documents at
// random, a piece of n documents changes with probability 1-(1-u)^n, so
// pieces must hold very few documents (u = 5%: n = 2 already changes
// 9.75% of pieces). Every piece also costs the manifest a reference
// (~40 bytes), which for 100-byte documents would outweigh the data. The
// rule below keeps a piece between about ChunkMinBytes and twice that:
// one document per piece for documents of 256 bytes or more, two or three
// for ~100-byte documents. The cut depends only on the _ids and sizes, so
// an update that keeps a document's size moves no boundary, and an insert
// or delete moves at most the boundaries next to it.
const DefaultChunkMinBytes = 128

// chunker groups consecutive documents into pieces for Writer.AddChunks.
type chunker struct {
	min int
	buf []byte
}

// add appends doc to the current piece and reports whether the piece ends
// after it: once the piece holds min bytes, it ends after a document whose
// _id hashes even, and at 2*min bytes it ends regardless.
func (c *chunker) add(doc bson.Raw) (cut bool, err error) {
	id, err := idValue(doc)
	if err != nil {
		return false, err
	}
	c.buf = append(c.buf, doc...)
	n := len(c.buf)
	return n >= 2*c.min || (n >= c.min && idHash(id)&1 == 0), nil
}

// idHash hashes an _id's type and value bytes, stable across processes.
func idHash(id bson.RawValue) uint64 {
	h := fnv.New64a()
	h.Write([]byte{byte(id.Type)})
	h.Write(id.Value)
	return h.Sum64()
}

// pieces turns a document iterator (returning io.EOF at the end) into the
// next function of Writer.AddChunks. Each returned piece is only valid
// until the following call.
func pieces(minBytes int, nextDoc func() (bson.Raw, error)) func() ([]byte, error) {
	c := &chunker{min: minBytes}
	done := false
	return func() ([]byte, error) {
		c.buf = c.buf[:0]
		for !done {
			doc, err := nextDoc()
			if errors.Is(err, io.EOF) {
				done = true
				break
			}
			if err != nil {
				return nil, err
			}
			cut, err := c.add(doc)
			if err != nil {
				return nil, err
			}
			if cut {
				return c.buf, nil
			}
		}
		if len(c.buf) > 0 {
			return c.buf, nil
		}
		return nil, io.EOF
	}
}
