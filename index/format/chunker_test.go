package format

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func chunks(t *testing.T, p ChunkerParams, data []byte) [][]byte {
	t.Helper()
	c := NewChunker(p, bytes.NewReader(data))
	var out [][]byte
	for {
		b, err := c.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), b...))
	}
}

func TestChunkerBoundsAndConcatenation(t *testing.T) {
	p := DefaultChunkerParams(7)
	data := randBytes(1, 20<<20)
	cs := chunks(t, p, data)
	if got := bytes.Join(cs, nil); !bytes.Equal(got, data) {
		t.Fatal("chunks do not concatenate to the input")
	}
	for i, c := range cs {
		if len(c) > p.Max || (len(c) < p.Min && i != len(cs)-1) {
			t.Fatalf("chunk %d has %d bytes, outside [%d, %d]", i, len(c), p.Min, p.Max)
		}
	}
	avg := len(data) / len(cs)
	if avg < p.Avg/2 || avg > p.Avg*2 {
		t.Fatalf("average chunk %d bytes, want near %d", avg, p.Avg)
	}
}

func TestChunkerResynchronisesAfterInsert(t *testing.T) {
	p := DefaultChunkerParams(7)
	data := randBytes(2, 16<<20)
	shifted := append(append([]byte("a few inserted bytes"), data[:5<<20]...), data[5<<20:]...)
	seen := map[ID]bool{}
	for _, c := range chunks(t, p, data) {
		seen[HashChunk(c)] = true
	}
	after := chunks(t, p, shifted)
	same := 0
	for _, c := range after {
		if seen[HashChunk(c)] {
			same++
		}
	}
	if same < len(after)-3 {
		t.Fatalf("only %d of %d chunks survive an insert at the start", same, len(after))
	}
}

func TestChunkerSeedChangesBoundaries(t *testing.T) {
	data := randBytes(3, 8<<20)
	a := chunks(t, DefaultChunkerParams(1), data)
	b := chunks(t, DefaultChunkerParams(2), data)
	if len(a) > 1 && len(b) > 1 && len(a[0]) == len(b[0]) && len(a[1]) == len(b[1]) {
		t.Fatal("different seeds gave the same boundaries")
	}
}

func TestBlobRoundTripAndCorruption(t *testing.T) {
	for _, tc := range []struct {
		name string
		data []byte
		typ  byte
	}{
		{"compressible", bytes.Repeat([]byte("strata "), 10000), blobZstd},
		{"random", randBytes(4, 100000), blobRaw},
		{"empty", []byte{}, blobRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := HashChunk(tc.data)
			typ, blob := EncodeBlob(nil, tc.data)
			if typ != tc.typ {
				t.Fatalf("type %d, want %d", typ, tc.typ)
			}
			got, err := DecodeBlob(id, typ, append([]byte(nil), blob...), len(tc.data))
			if err != nil || !bytes.Equal(got, tc.data) {
				t.Fatalf("round trip failed: %v", err)
			}
			if len(blob) > 0 {
				bad := append([]byte(nil), blob...)
				bad[len(bad)/2] ^= 1
				if _, err := DecodeBlob(id, typ, bad, len(tc.data)); err == nil {
					t.Fatal("a flipped byte was not detected")
				}
			}
		})
	}
}

// shortReader returns at most a random few KiB per Read.
type shortReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (s *shortReader) Read(p []byte) (int, error) {
	n := 1 + s.rng.IntN(7<<10)
	return s.r.Read(p[:min(n, len(p))])
}

// Cut points depend on the bytes alone: not on how the reader delivers
// them, nor on the size the stream was expected to have, nor on the
// buffer a pooled chunker had for an earlier stream, nor on the build
// (they are pinned: a change would make every stored chunk of existing
// stores look new). The chunker's buffer starts small, is big only for
// long streams, and is small again after Release (Small).
func TestChunkerCutsAreStable(t *testing.T) {
	p := DefaultChunkerParams(7)
	data := randBytes(2, 12<<20)
	want := chunks(t, p, data)
	h := sha256.New()
	for _, c := range want {
		fmt.Fprintf(h, "%d,", len(c))
	}
	if got := hex.EncodeToString(h.Sum(nil))[:16]; got != "718ab068693ca44a" {
		t.Errorf("cut points of the pinned input hash to %s, want 718ab068693ca44a", got)
	}
	c := NewChunker(p, bytes.NewReader([]byte("a small file")))
	if _, err := c.Next(); err != nil || !c.Small() {
		t.Fatalf("after a small file: err %v, Small %v; want nil, true", err, c.Small())
	}
	type stream struct {
		r      io.Reader
		expect int64 // 0: not said
	}
	short := func() io.Reader { return &shortReader{bytes.NewReader(data), rand.New(rand.NewPCG(1, 1))} }
	for _, st := range []stream{
		{bytes.NewReader(data), 0}, {short(), 0},
		{bytes.NewReader(data), int64(len(data))}, {short(), int64(len(data))},
		{bytes.NewReader(data), 1000}, {bytes.NewReader(data), 100 << 20},
	} {
		c.Reset(st.r)
		if st.expect > 0 {
			c.Expect(st.expect)
		}
		var got [][]byte
		for {
			b, err := c.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, append([]byte(nil), b...))
		}
		if len(got) != len(want) {
			t.Fatalf("%d chunks, want %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("chunk %d differs (%d bytes, want %d)", i, len(got[i]), len(want[i]))
			}
		}
		if c.Small() {
			t.Error("Small after a 12 MiB stream")
		}
		c.Release()
		if !c.Small() {
			t.Error("not Small after Release")
		}
	}
}

// Small reports whether the chunker is on its own small buffer (always
// after Release), so that a pool of chunkers holds little.
func (c *Chunker) Small() bool { return len(c.buf) <= chunkerStartBuf }

// A compressed blob that is cut short, padded, garbage, or whose index
// entry claims another raw length is refused as undecodable or corrupt,
// never returned (whichever decoder the build has).
func TestDecodeBlobRefusesDamagedFrames(t *testing.T) {
	data := jsonLines(300 << 10)
	id := HashChunk(data)
	typ, blob := EncodeBlob(nil, data)
	if typ != blobZstd {
		t.Fatalf("JSON lines stored as type %d", typ)
	}
	for _, tc := range []struct {
		name   string
		blob   []byte
		rawLen int
	}{
		{"cut short", blob[:len(blob)-10], len(data)},
		{"header only", blob[:8], len(data)},
		{"padded", append(append([]byte(nil), blob...), 1, 2, 3), len(data)},
		{"garbage", randBytes(9, len(blob)), len(data)},
		{"raw length too small", blob, len(data) - 1},
		{"raw length too large", blob, len(data) + 1},
		{"raw length zero", blob, 0},
		{"empty", nil, len(data)},
	} {
		got, err := DecodeBlob(id, typ, append([]byte(nil), tc.blob...), tc.rawLen)
		if err == nil || !(errors.Is(err, ErrUndecodable) || errors.Is(err, ErrCorrupt)) {
			t.Errorf("%s: got %d bytes, error %v; want undecodable or corrupt", tc.name, len(got), err)
		}
	}
}
