package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/zeebo/blake3"
	"go.mongodb.org/mongo-driver/bson"

	"github.com/stratabackup/strata/sources"
)

// errUnsorted means a .bson stream is not in the order compareValues
// expects.
var errUnsorted = errors.New("documents not in _id order")

// docDiff is the outcome of comparing two .bson streams: which documents
// of the newer one (by ordinal) to emit, and which _ids went away.
type docDiff struct {
	changed bitset
	deleted []bson.RawValue
}

// diffDocs compares the .bson files at path of two versions.
func diffDocs(ctx context.Context, from, to sources.VersionReader, path string) (docDiff, error) {
	d, err := mergeDiff(ctx, from, to, path)
	if errors.Is(err, errUnsorted) {
		return hashDiff(ctx, from, to, path)
	}
	return d, err
}

// mergeDiff walks both sorted streams side by side.
func mergeDiff(ctx context.Context, from, to sources.VersionReader, path string) (docDiff, error) {
	var d docDiff
	a, ca, err := openDocs(ctx, from, path)
	if err != nil {
		return d, err
	}
	defer ca.Close()
	b, cb, err := openDocs(ctx, to, path)
	if err != nil {
		return d, err
	}
	defer cb.Close()
	sa, sb := &sortedStream{r: a}, &sortedStream{r: b}
	if err := sa.advance(); err != nil {
		return d, err
	}
	if err := sb.advance(); err != nil {
		return d, err
	}
	for sa.doc != nil || sb.doc != nil {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		c := 0
		switch {
		case sa.doc == nil:
			c = 1
		case sb.doc == nil:
			c = -1
		default:
			c = compareValues(sa.id, sb.id)
		}
		if c < 0 {
			d.deleted = append(d.deleted, sa.ownID())
		}
		if c > 0 || c == 0 && !bytes.Equal(sa.doc, sb.doc) {
			d.changed.set(sb.n - 1)
		}
		if c <= 0 {
			if err := sa.advance(); err != nil {
				return d, err
			}
		}
		if c >= 0 {
			if err := sb.advance(); err != nil {
				return d, err
			}
		}
	}
	return d, nil
}

// sortedStream is a docReader that checks its _ids ascend.
type sortedStream struct {
	r      *docReader
	doc    bson.Raw // nil at the end
	id     bson.RawValue
	prevID []byte // type byte + value of the previous _id
	n      int    // documents read so far
}

func (s *sortedStream) advance() error {
	if s.doc != nil {
		s.prevID = append(append(s.prevID[:0], byte(s.id.Type)), s.id.Value...)
	}
	doc, err := s.r.next()
	if errors.Is(err, io.EOF) {
		s.doc = nil
		return nil
	}
	if err != nil {
		return err
	}
	id, err := idValue(doc)
	if err != nil {
		return fmt.Errorf("document %d: %w", s.n, err)
	}
	if s.n > 0 {
		prev := bson.RawValue{Type: bsonType(s.prevID[0]), Value: s.prevID[1:]}
		if compareValues(prev, id) >= 0 {
			return errUnsorted
		}
	}
	s.doc, s.id = doc, id
	s.n++
	return nil
}

func (s *sortedStream) ownID() bson.RawValue {
	return bson.RawValue{Type: s.id.Type, Value: append([]byte(nil), s.id.Value...)}
}

// hashDiff compares by a map from the older version's _ids to content
// hashes; it needs memory for every _id but no order.
func hashDiff(ctx context.Context, from, to sources.VersionReader, path string) (docDiff, error) {
	var d docDiff
	old := map[string][16]byte{}
	err := eachDoc(ctx, from, path, func(_ int, key string, doc bson.Raw) {
		old[key] = contentHash(doc)
	})
	if err != nil {
		return d, err
	}
	err = eachDoc(ctx, to, path, func(i int, key string, doc bson.Raw) {
		if h, ok := old[key]; !ok || h != contentHash(doc) {
			d.changed.set(i)
		}
		delete(old, key)
	})
	if err != nil {
		return d, err
	}
	for key := range old {
		d.deleted = append(d.deleted, bson.RawValue{Type: bsonType(key[0]), Value: []byte(key[1:])})
	}
	slices.SortFunc(d.deleted, compareValues)
	return d, nil
}

func contentHash(doc bson.Raw) [16]byte {
	sum := blake3.Sum256(doc)
	return [16]byte(sum[:16])
}

// eachDoc calls fn with each document's ordinal and _id key (type byte
// plus value bytes).
func eachDoc(ctx context.Context, v sources.VersionReader, path string, fn func(i int, key string, doc bson.Raw)) error {
	r, c, err := openDocs(ctx, v, path)
	if err != nil {
		return err
	}
	defer c.Close()
	for i := 0; ; i++ {
		doc, err := r.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		id, err := idValue(doc)
		if err != nil {
			return fmt.Errorf("%s document %d: %w", path, i, err)
		}
		fn(i, idKey(id), doc)
	}
}

// writeChanged writes the documents of to's .bson whose ordinals are set.
func writeChanged(ctx context.Context, to sources.VersionReader, path string, changed bitset, mtime time.Time, w sources.Writer) error {
	r, c, err := openDocs(ctx, to, path)
	if err != nil {
		return err
	}
	defer c.Close()
	i := -1
	next := func() (sources.Span, error) {
		for {
			doc, err := r.next()
			if err != nil {
				return sources.Span{}, err
			}
			i++
			if changed.has(i) {
				return sources.Span{Data: doc}, nil
			}
		}
	}
	if err := w.AddSpans(ctx, fileEntry(path, mtime, -1), next); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// bitset is a growable set of small non-negative integers.
type bitset []uint64

func (b *bitset) set(i int) {
	for len(*b) <= i/64 {
		*b = append(*b, 0)
	}
	(*b)[i/64] |= 1 << (i % 64)
}

func (b bitset) has(i int) bool { return i/64 < len(b) && b[i/64]&(1<<(i%64)) != 0 }
