package format

import (
	"bytes"
	"reflect"
	"testing"
	"time"
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
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		t.Run(name, func(t *testing.T) {
			r := fullRecord()
			f := reflect.ValueOf(&r).Elem().Field(i)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Uint8, reflect.Uint32, reflect.Uint64:
				f.SetUint(f.Uint() + 1)
			case reflect.Int64:
				f.SetInt(f.Int() + 1)
			case reflect.Struct: // time.Time
				r.ModTime = r.ModTime.Add(time.Nanosecond)
			case reflect.Pointer:
				r.Owner = &mowner{User: "u", Group: "g", UID: 1, GID: 3}
			case reflect.Map:
				r.Attrs = rawAttrs{"k": "w"}
			case reflect.Slice:
				r.Chunks = chunkList{{ID: r.Chunks[0].ID, Size: 10, Off: 1}}
			default:
				t.Fatalf("field %s of kind %s: teach this test to change it", name, f.Kind())
			}
			if RecordsEqual(base, r) {
				t.Errorf("RecordsEqual misses a change of %s", name)
			}
			line, err := r.appendJSON(nil)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(line, baseLine) {
				t.Errorf("a change of %s leaves the line as it was", name)
			}
		})
	}
	if !RecordsEqual(base, fullRecord()) {
		t.Error("equal records compare unequal")
	}
	noAttrs, emptyAttrs := fullRecord(), fullRecord()
	noAttrs.Attrs, emptyAttrs.Attrs = nil, rawAttrs{}
	if !RecordsEqual(noAttrs, emptyAttrs) {
		t.Error("nil and empty attributes (both left out of the line) compare unequal")
	}
}
