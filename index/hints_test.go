package index

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// cutPlain is how the chunker alone cuts b.
func cutPlain(t *testing.T, p format.ChunkerParams, b []byte) []ChunkRef {
	t.Helper()
	ch := format.NewChunker(p, bytes.NewReader(b))
	var refs []ChunkRef
	for {
		c, err := ch.Next()
		if errors.Is(err, io.EOF) {
			return refs
		}
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, ChunkRef{ID: format.HashChunk(c), Size: uint32(len(c))})
	}
}

// TestHintedCutsAsTheChunkerDoes: reading a changed file against its
// previous cuts makes exactly the chunks the chunker alone makes, whatever
// the change (in place, appended, inserted, cut short, none), and takes
// the unchanged stretches from the hints (hashed, not scanned).
func TestHintedCutsAsTheChunkerDoes(t *testing.T) {
	p := format.ChunkerParams{Min: 256, Avg: 1024, Max: 4096, Seed: 3}
	rng := rand.New(rand.NewPCG(1, 2))
	old := make([]byte, 200<<10)
	for i := range old {
		old[i] = byte(rng.IntN(16)) // low entropy: cuts are content-defined, not all at Max
	}
	noise := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	splice := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	mid := len(old) / 2
	for _, tc := range []struct {
		name       string
		new        []byte
		maxScanned int // chunks the chunker may cut by scanning; -1: any
	}{
		{"unchanged", old, 0},
		{"rewritten in place", splice(old[:mid], noise(5000), old[mid+5000:]), 8},
		{"appended", splice(old, noise(3000)), 5},
		{"inserted", splice(old[:mid], noise(777), old[mid:]), -1},
		{"cut short", old[:len(old)-1500], 2},
		{"all new", noise(len(old)), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev := cutPlain(t, p, old)
			want := cutPlain(t, p, tc.new)
			h := newHinted(format.NewChunker(p, bytes.NewReader(tc.new)), prev, int64(len(tc.new)))
			if h == nil {
				t.Fatal("no hints from a previous file of many chunks")
			}
			var got []ChunkRef
			hinted := 0
			for {
				c, id, err := h.chunk()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				ref := ChunkRef{ID: format.HashChunk(c), Size: uint32(len(c))}
				if id != nil {
					hinted++
					if *id != ref.ID {
						t.Fatalf("chunk %d: hinted id %x is not its hash %x", len(got), id[:4], ref.ID[:4])
					}
				}
				got = append(got, ref)
			}
			if len(got) != len(want) {
				t.Fatalf("%d chunks, the chunker alone makes %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("chunk %d differs from the chunker's: %+v, want %+v", i, got[i], want[i])
				}
			}
			if scanned := len(got) - hinted; tc.maxScanned >= 0 && scanned > tc.maxScanned {
				t.Errorf("%d of %d chunks were cut by scanning, want at most %d", scanned, len(got), tc.maxScanned)
			}
		})
	}
}

// TestNoHintsFromExtentsOrFewChunks: a previous file of few chunks, or of
// extents of shared chunks (row sources), gives no hints.
func TestNoHintsFromExtentsOrFewChunks(t *testing.T) {
	p := format.DefaultChunkerParams(1)
	ch := format.NewChunker(p, bytes.NewReader(nil))
	few := make([]ChunkRef, hintMinChunks-1)
	ext := make([]ChunkRef, hintMinChunks)
	ext[2].Off = 10
	for _, prev := range [][]ChunkRef{nil, few, ext} {
		if newHinted(ch, prev, 100) != nil {
			t.Errorf("hints from %d refs %+v", len(prev), prev)
		}
	}
}

// TestChangedFileReadAgainstPreviousCuts: a backup of a file changed in
// its middle cuts it as the chunker alone does and stores only the
// chunks around the change; the version reads back as written.
func TestChangedFileReadAgainstPreviousCuts(t *testing.T) {
	st, _, _ := newTestStore(t)
	data := randBytes(11, 8<<20)
	src := &memSource{files: map[string][]byte{"big": data}}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	if _, err := st.Backup(context.Background(), src, obj, BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	changed := bytes.Clone(data)
	copy(changed[4<<20:], "a change in the middle")
	src.files["big"] = changed
	v2, err := st.Backup(context.Background(), src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readAll(t, st, v2, "big"), changed) {
		t.Fatal("the second version does not read back as written")
	}
	f, err := st.Lookup(context.Background(), v2, "big")
	if err != nil {
		t.Fatal(err)
	}
	want := cutPlain(t, st.cfg.Chunker, changed)
	if len(f.Chunks) != len(want) {
		t.Fatalf("%d chunks, the chunker alone makes %d", len(f.Chunks), len(want))
	}
	for i := range want {
		if f.Chunks[i] != want[i] {
			t.Fatalf("chunk %d: %+v, the chunker alone makes %+v", i, f.Chunks[i], want[i])
		}
	}
	if max := int64(2 * st.cfg.Chunker.Max); v2.Stats.NewBytes > max {
		t.Errorf("the second backup stored %d new bytes for a 22-byte change (at most %d expected)", v2.Stats.NewBytes, max)
	}
}
