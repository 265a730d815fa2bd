package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestChunkRefManifestForm(t *testing.T) {
	for _, c := range []ChunkRef{{Size: 7}, {Size: 7, Off: 3}} {
		b, err := chunkRec(c).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var back chunkRec
		if err := back.UnmarshalJSON(b); err != nil || ChunkRef(back) != c {
			t.Fatalf("%s decodes to %+v (%v), want %+v", b, back, err, c)
		}
	}
	var bad chunkRec
	if err := bad.UnmarshalJSON([]byte(fmt.Sprintf(`["%x"]`, ID{}))); err == nil {
		t.Fatal("a one-element reference decoded")
	}
}

func TestChunkListDecodes(t *testing.T) {
	var a, b ID
	a[0], b[31] = 0xab, 0x01
	want := chunkList{{ID: a, Size: 7}, {ID: b, Size: 9, Off: 3}, {ID: a, Size: 1 << 21}}
	enc, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	// A chunk named again is a back reference to its last mention.
	if want := fmt.Sprintf(`[["%x",7],["%x",9,3],[2,2097152]]`, a[:], b[:]); string(enc) != want {
		t.Fatalf("encoded %s, want %s", enc, want)
	}
	spaced := bytes.ReplaceAll(enc, []byte(","), []byte(" ,\n "))
	for _, in := range [][]byte{enc, spaced} {
		var got chunkList
		if err := json.Unmarshal(in, &got); err != nil || !slices.Equal(got, want) {
			t.Fatalf("%s decodes to %v (%v), want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{`[["ab",1]]`, `[["` + strings.Repeat("0", 64) + `",x]]`, `[["` + strings.Repeat("0", 64) + `",1,2,3]]`, `{}`, `[[1,2]`,
		`[[1,2]]`, `[["` + strings.Repeat("0", 64) + `",1],[0,1]]`, `[["` + strings.Repeat("0", 64) + `",1],[2,1]]`, `[["` + strings.Repeat("0", 64) + `",1],[1,1,2,3]]`, `[["` + strings.Repeat("0", 64) + `",1],[1,x]]`} {
		var got chunkList
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("%s decoded to %v", bad, got)
		}
	}
}

func BenchmarkChunkListDecode(b *testing.B) {
	l := make(chunkList, 100000)
	for i := range l {
		l[i] = chunkRec{Size: uint32(i), Off: uint32(i % 3)}
		l[i].ID[0] = byte(i)
	}
	enc, _ := json.Marshal(l)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		var got chunkList
		if err := got.UnmarshalJSON(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChunkListDecodeBackRefs decodes a file's list after scattered
// updates: references alternating between a few chunks, mostly back
// references.
func BenchmarkChunkListDecodeBackRefs(b *testing.B) {
	l := make(chunkList, 100000)
	for i := range l {
		l[i] = chunkRec{Size: uint32(2900 + i%100), Off: uint32(i * 3000 % (1 << 20))}
		l[i].ID[0] = byte(i%2 + i/3000*2)
	}
	enc, _ := json.Marshal(l)
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		var got chunkList
		if err := got.UnmarshalJSON(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// A manifest is mostly its file list's chunk ids in hex, which zstd's
// fastest level stored raw: a no-change version then cost twice the
// bytes it needs. The stored manifest must come out well under its JSON.
func TestManifestCompressesChunkIDs(t *testing.T) {
	for _, n := range []int{40, 110, 400} {
		refs := make([]ChunkRef, n)
		rnd := rand.NewChaCha8([32]byte{byte(n)})
		for i := range refs {
			rnd.Read(refs[i].ID[:])
			refs[i].Size = uint32(65536 + 37*i)
		}
		m := &Manifest{Format: 5, FileList: FileListRefs(refs)}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		data, err := EncodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > len(raw)*6/10 {
			t.Errorf("manifest of %d list chunks: %d bytes stored of %d in JSON; want at most 60%%", n, len(data), len(raw))
		}
		var back Manifest
		if err := unzstdJSON(data, &back); err != nil || !slices.Equal(back.FileList.Refs(), refs) {
			t.Fatalf("manifest of %d list chunks does not read back: %v", n, err)
		}
	}
}
