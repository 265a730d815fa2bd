package format

import (
	"bytes"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources/sourcetest"
)

// fullRecord has every field set, so that changing any one of them
// changes its line.
func fullRecord() FileRecord {
	var id ID
	id[3] = 9
	return FileRecord{Path: "d/f", Type: 1, Mode: 0o644, ModTime: time.Date(2026, 11, 29, 1, 2, 3, 4, time.UTC), Size: 10,
		Target: "t", Fingerprint: "fp", Owner: &mowner{User: "u", Group: "g", UID: 1, GID: 2}, Attrs: rawAttrs{"k": "v"},
		HardLink: 5, Nlink: 2, Chunks: chunkList{{ID: id, Size: 10}}}
}

// TestRecordsEqualSeesEveryField changes each field of a record in turn:
// RecordsEqual must see the change, and the line must differ, or a
// backup would reuse a stale line.
func TestRecordsEqualSeesEveryField(t *testing.T) {
	base := fullRecord()
	baseLine, err := base.appendJSON(nil)
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.ChangeEachField(t, fullRecord, func(r *FileRecord, field string) bool {
		switch field {
		case "ModTime":
			r.ModTime = r.ModTime.Add(time.Nanosecond)
		case "Owner":
			r.Owner = &mowner{User: "u", Group: "g", UID: 1, GID: 3}
		case "Attrs":
			r.Attrs = rawAttrs{"k": "w"}
		case "Chunks":
			r.Chunks = chunkList{{ID: r.Chunks[0].ID, Size: 10, Off: 1}}
		default:
			return false
		}
		return true
	}, func(t *testing.T, r FileRecord) {
		if RecordsEqual(base, r) {
			t.Error("RecordsEqual misses the change")
		}
		line, err := r.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(line, baseLine) {
			t.Error("the change leaves the line as it was")
		}
	})
	if !RecordsEqual(base, fullRecord()) {
		t.Error("equal records compare unequal")
	}
	noAttrs, emptyAttrs := fullRecord(), fullRecord()
	noAttrs.Attrs, emptyAttrs.Attrs = nil, rawAttrs{}
	if !RecordsEqual(noAttrs, emptyAttrs) {
		t.Error("nil and empty attributes (both left out of the line) compare unequal")
	}
}
