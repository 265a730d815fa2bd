package e2e

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zeebo/blake3"

	"github.com/stratabackup/strata/index"
)

// Pack layout (index/pack.go): blobs, then 41-byte records (type, id,
// stored length, raw length), then the records' length (uint32 LE) and an
// 8-byte magic.
const (
	packRecord  = 1 + 32 + 4 + 4
	packTrailer = 4 + 8
)

// TestCheckFindsFlippedByte flips one byte inside a chunk stored in a
// pack: check must exit 3 and name every version and file that uses the
// chunk; a restore that needs it fails, one that does not succeeds.
func TestCheckFindsFlippedByte(t *testing.T) {
	e := newEnv(t)
	src1, src2 := e.path("src1"), e.path("src2")
	// Files under the 64 KiB minimum chunk are one chunk each, whose id
	// is the BLAKE3 of the content.
	content := map[string][]byte{}
	for i, name := range []string{"f1", "f2", "f3", "sub/f4", "f5"} {
		content[name] = randomBytes(uint64(100+i), 10000*(i+1))
		writeFile(t, filepath.Join(src1, name), content[name])
	}
	writeFile(t, filepath.Join(src2, "copy/of-f3"), content["f3"])
	writeFile(t, filepath.Join(src2, "g"), randomBytes(200, 20000))

	p0 := e.packs()
	v1 := e.backup("t1", src1)
	p1 := newNames(p0, e.packs())
	v2 := e.backup("t2", src2)
	if len(p1) != 1 {
		t.Fatalf("want one pack for t1's five small files, got %v", p1)
	}
	e.ok("check")

	victim := blake3.Sum256(content["f3"])
	var pack string
	for name := range p1 {
		pack = filepath.Join(e.store, name)
	}
	off := blobOffset(t, pack, victim)
	flipByte(t, pack, off)
	t.Logf("flipped the byte at %d of %s (inside chunk %x)", off, pack, victim)

	r := e.run("--json", "check")
	if r.code != 3 {
		t.Fatalf("check --json: want exit 3, got\n%s", r)
	}
	var res index.CheckResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("parse check --json: %v\n%s", err, r)
	}
	wantAffected := []string{
		spec(v1) + ": f3",
		spec(v2) + ": copy/of-f3",
	}
	if len(res.Damage) != 1 {
		t.Fatalf("want one damaged chunk, got %+v", res.Damage)
	}
	d := res.Damage[0]
	if d.Chunk != hex.EncodeToString(victim[:]) {
		t.Errorf("damaged chunk %s, want %x", d.Chunk, victim)
	}
	got := slices.Clone(d.Affected)
	slices.Sort(got)
	slices.Sort(wantAffected)
	if !slices.Equal(got, wantAffected) {
		t.Errorf("check names %q, want %q", got, wantAffected)
	}

	r = e.run("check")
	if r.code != 3 {
		t.Fatalf("check: want exit 3, got\n%s", r)
	}
	for _, w := range append(wantAffected, "DAMAGED chunk "+d.Chunk) {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("check output lacks %q:\n%s", w, r.stdout)
		}
	}

	if r := e.run("restore", spec(v1), e.path("bad")); r.code == 0 {
		t.Errorf("restore of a version with a damaged chunk succeeded:\n%s", r)
	}
	good := e.path("good")
	e.ok("restore", "--path", "f1", spec(v1), good)
	if b, err := os.ReadFile(filepath.Join(good, "f1")); err != nil || string(b) != string(content["f1"]) {
		t.Errorf("restore --path f1 of the damaged version: %v, same bytes %v", err, string(b) == string(content["f1"]))
	}
}

// blobOffset returns the offset of the middle of chunk id's blob in a pack,
// read from the pack's own header.
func blobOffset(t *testing.T, pack string, id [32]byte) int64 {
	t.Helper()
	data, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < packTrailer || string(data[len(data)-8:]) != "STRP1\n\x00\x00" {
		t.Fatalf("%s: not a pack (bad magic)", pack)
	}
	hlen := int(binary.LittleEndian.Uint32(data[len(data)-packTrailer:]))
	hdr := data[len(data)-packTrailer-hlen : len(data)-packTrailer]
	var off int64
	for i := 0; i+packRecord <= len(hdr); i += packRecord {
		rec := hdr[i : i+packRecord]
		n := int64(binary.LittleEndian.Uint32(rec[33:]))
		if string(rec[1:33]) == string(id[:]) {
			return off + n/2
		}
		off += n
	}
	t.Fatalf("%s: no chunk %x in its header", pack, id)
	return 0
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		// Packs may be stored read-only.
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if f, err = os.OpenFile(path, os.O_RDWR, 0); err != nil {
			t.Fatal(err)
		}
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x5a
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(fmt.Errorf("close %s: %w", path, err))
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedFileListOnNewCatalog damages the chunk holding one version's
// file list and uses the store from a new catalog, as on a host that
// restores after losing the first: the other version lists and restores,
// every command warns of the damaged one, check names it (exit 3), and
// prune refuses rather than delete data the version may need.
func TestDamagedFileListOnNewCatalog(t *testing.T) {
	e := newEnv(t)
	src1, src2 := e.path("src1"), e.path("src2")
	writeFile(t, filepath.Join(src1, "a"), randomBytes(1, 5000))
	writeFile(t, filepath.Join(src2, "b"), randomBytes(2, 5000))
	v1 := e.backup("t1", src1)
	p0 := e.packs()
	v2 := e.backup("t2", src2)
	if len(v2.FileList) == 0 {
		t.Fatalf("version %s has no file list chunks", spec(v2))
	}
	flipped := false
	for name := range newNames(p0, e.packs()) {
		pack := filepath.Join(e.store, name)
		if off, ok := findBlob(t, pack, v2.FileList[0].ID); ok {
			flipByte(t, pack, off)
			flipped = true
		}
	}
	if !flipped {
		t.Fatalf("no new pack holds %s's file list chunk", spec(v2))
	}

	e.cache = e.path("new-cache")
	r := e.ok("versions")
	if !strings.Contains(r.stdout, "c/d/t1") || strings.Contains(r.stdout, "c/d/t2") {
		t.Errorf("versions on a new catalog: want t1 listed, t2 not:\n%s", r)
	}
	if !strings.Contains(r.stderr, "damaged version") || !strings.Contains(r.stderr, v2.Name) {
		t.Errorf("versions does not warn of %s:\n%s", v2.Name, r)
	}
	good := e.path("good")
	e.ok("restore", spec(v1), good)
	if b, err := os.ReadFile(filepath.Join(good, "a")); err != nil || string(b) != string(randomBytes(1, 5000)) {
		t.Errorf("restore of the healthy version: %v", err)
	}
	r = e.run("check")
	if r.code != 3 || !strings.Contains(r.stdout, "DAMAGED") || !strings.Contains(r.stdout, v2.Name) {
		t.Errorf("check: want exit 3 naming %s, got\n%s", v2.Name, r)
	}
	r = e.run("prune")
	if r.code == 0 || !strings.Contains(r.stderr, "refusing") {
		t.Errorf("prune with a damaged version: want a refusal, got\n%s", r)
	}
}

// findBlob is blobOffset for a pack that may not hold id.
func findBlob(t *testing.T, pack string, id [32]byte) (int64, bool) {
	t.Helper()
	data, err := os.ReadFile(pack)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(packIDs(t, data), func(x [32]byte) bool { return x == id }) {
		return 0, false
	}
	return blobOffset(t, pack, id), true
}

// packIDs lists the chunk ids in a pack's header.
func packIDs(t *testing.T, data []byte) [][32]byte {
	t.Helper()
	if len(data) < packTrailer || string(data[len(data)-8:]) != "STRP1\n\x00\x00" {
		t.Fatal("not a pack (bad magic)")
	}
	hlen := int(binary.LittleEndian.Uint32(data[len(data)-packTrailer:]))
	hdr := data[len(data)-packTrailer-hlen : len(data)-packTrailer]
	var ids [][32]byte
	for i := 0; i+packRecord <= len(hdr); i += packRecord {
		var id [32]byte
		copy(id[:], hdr[i+1:i+33])
		ids = append(ids, id)
	}
	return ids
}
