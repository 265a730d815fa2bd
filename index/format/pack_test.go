package format

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"testing"
)

// memObject collects a streamed pack's bytes, or fails its writes.
type memObject struct {
	buf       bytes.Buffer
	failAfter int // bytes accepted before writes fail; <0: never
	committed string
	aborted   bool
}

func (o *memObject) Write(p []byte) (int, error) {
	if o.failAfter >= 0 && o.buf.Len()+len(p) > o.failAfter {
		return 0, errors.New("disk full")
	}
	return o.buf.Write(p)
}
func (o *memObject) Commit(_ context.Context, name string) error { o.committed = name; return nil }
func (o *memObject) Abort()                                      { o.aborted = true }

// A pack streamed to an object is byte for byte the pack built in
// memory, with the same id, however its blobs are sized.
func TestPackStreamSameAsMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	mem := NewPackBuilder()
	obj := &memObject{failAfter: -1}
	st := NewPackStream(obj)
	for i := range 300 {
		n := rng.IntN(4 << 10)
		if i%50 == 0 {
			n = 3 << 20 // larger than the stream's write buffer
		}
		blob := make([]byte, n)
		for j := range blob {
			blob[j] = byte(rng.Uint32())
		}
		id := HashChunk(blob)
		mem.Add(id, blobRaw, blob, n)
		st.Add(id, blobRaw, blob, n)
	}
	if mem.Len() != st.Len() {
		t.Fatalf("Len: memory %d, stream %d", mem.Len(), st.Len())
	}
	mid, data, err := mem.Finish()
	if err != nil {
		t.Fatal(err)
	}
	sid, sdata, err := st.Finish()
	if err != nil || sdata != nil {
		t.Fatalf("stream Finish: %d bytes returned, err %v; want none, nil", len(sdata), err)
	}
	if sid != mid || !bytes.Equal(obj.buf.Bytes(), data) {
		t.Fatalf("stream pack %x (%d bytes) differs from memory pack %x (%d bytes)", sid[:4], obj.buf.Len(), mid[:4], len(data))
	}
	if st.Size() != len(data) {
		t.Errorf("Size %d, pack is %d bytes", st.Size(), len(data))
	}
	if _, err := PackHeader("p", obj.buf.Bytes()); err != nil {
		t.Errorf("streamed pack's header: %v", err)
	}
	mem.Release()
	st.Release()
}

// A write error of a stream is kept and returned by Finish, not lost.
func TestPackStreamWriteError(t *testing.T) {
	obj := &memObject{failAfter: 100}
	st := NewPackStream(obj)
	blob := bytes.Repeat([]byte("x"), 2<<20) // past the write buffer: written through
	st.Add(HashChunk(blob), blobRaw, blob, len(blob))
	if _, _, err := st.Finish(); err == nil || err.Error() != "disk full" {
		t.Fatalf("Finish after a failed write: %v, want disk full", err)
	}
	st.Release()
}
