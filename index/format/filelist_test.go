package format

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The file list's hand-written encoder writes exactly what encoding/json
// writes for the same records, and DecodeFileList reads them back.
func TestEncodeFileListMatchesEncodingJSON(t *testing.T) {
	var id ID
	for i := range id {
		id[i] = byte(i * 7)
	}
	recs := []FileRecord{
		{},
		{Path: "a/b.txt", Type: 1, Mode: 0o100644, ModTime: time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC), Size: 42,
			Chunks: chunkList{{ID: id, Size: 42}, {ID: id, Size: 7, Off: 3}}},
		{Path: "raw\xff\x01name", Type: 3, Target: "../<x>&\"y\"\\z", Fingerprint: "fp\n1", HardLink: 9, Nlink: 2,
			Owner: &mowner{UID: 0, GID: -1}, Attrs: rawAttrs{"user.k\xfe": "v\x00"}},
		{Path: "ünïcode/名前", ModTime: time.Date(1969, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)),
			Owner: &mowner{User: "root", Group: "wheel", UID: 0, GID: 0}, Size: -1},
	}
	data, lines, err := EncodeFileList(recs)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(recs) {
		t.Fatalf("%d lines for %d records", len(lines), len(recs))
	}
	for i := range recs {
		want, err := json.Marshal(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(lines[i], want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, lines[i], want)
		}
	}
	back, backLines, err := DecodeFileList(data)
	if err != nil || len(back) != len(recs) || len(backLines) != len(recs) {
		t.Fatalf("decoded %d records, %d lines: %v", len(back), len(backLines), err)
	}
	for i := range recs {
		again, _ := json.Marshal(&back[i])
		if !bytes.Equal(again, lines[i]) {
			t.Errorf("record %d reads back as %s, was %s", i, again, lines[i])
		}
	}
}

// DecodeFileRecord reads every record (and hand-made variants encoding/json
// accepts) exactly as encoding/json does.
func TestDecodeFileRecordMatchesEncodingJSON(t *testing.T) {
	var id ID
	id[3] = 9
	recs := []FileRecord{
		{},
		{Path: "a/b.txt", Type: 1, Mode: 0o100644, ModTime: time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.UTC), Size: 42,
			Chunks: chunkList{{ID: id, Size: 42}, {ID: id, Size: 7, Off: 3}}},
		{Path: "raw\xff\x01name", Type: 3, Target: "../<x>&\"y\"\\z,]}", Fingerprint: "fp\n1", HardLink: 9, Nlink: 2,
			Owner: &mowner{UID: 0, GID: -1}, Attrs: rawAttrs{"user.k\xfe": "v\x00", "a,b": "]"}},
		{Path: "ünïcode/名前", Owner: &mowner{User: "root", Group: "wh\"eel", UID: 0, GID: 0}, Size: -1},
		{Path: `ends\`, Target: `\\"`, Fingerprint: `\`, Type: 255, Mode: 1<<32 - 1, HardLink: 1<<64 - 1, Size: 1<<63 - 1},
	}
	_, lines, err := EncodeFileList(recs)
	if err != nil {
		t.Fatal(err)
	}
	lines = append(lines, []byte(`{ "path": "spaced", "size": 3 }`), []byte(`{"path":"x","unknown":[1,{"a":"]"}],"size":5}`),
		[]byte(`{"path":"n","owner":null,"chunks":null}`), []byte(`{"path":"esc\u0041","mtime":"2026-11-29T10:00:00+01:00"}`),
		[]byte(`{"path":"big","type":256}`), []byte(`{"path":"big","size":9223372036854775808}`), []byte(`{"path":"e","size":1e3}`),
		[]byte(`{"path":"z","size":0}`), []byte(`{"path":"z","mode":007}`), []byte(`{"path":"neg","link":-1}`),
		[]byte(`{"path":"huge","link":18446744073709551616}`), []byte(`{"path":"open\"}`))
	for i, line := range lines {
		var want, got FileRecord
		werr := json.Unmarshal(line, &want)
		gerr := DecodeFileRecord(line, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("line %d %s: encoding/json %v, DecodeFileRecord %v", i, line, werr, gerr)
		}
		wj, _ := json.Marshal(&want)
		gj, _ := json.Marshal(&got)
		if !bytes.Equal(wj, gj) || !want.ModTime.Equal(got.ModTime) {
			t.Errorf("line %d %s:\n got %s\nwant %s", i, line, gj, wj)
		}
	}
}
