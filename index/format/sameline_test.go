package format

import (
	"slices"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestSameLineSeesEveryField: a line written for an entry is the same
// line for that entry (its chunks given back, each once), in whatever
// time zone its mtime is, and for no entry that differs in any one field
// (the test changes each in turn, so a field added to Entry must be
// taught to it), nor for a line with fields the entry lacks.
func TestSameLineSeesEveryField(t *testing.T) {
	id := func(b byte) ID { var x ID; x[0] = b; return x }
	chunks := []ChunkRef{{ID: id(1), Size: 10}, {ID: id(2), Size: 20, Off: 5}, {ID: id(1), Size: 10}}
	full := func() sources.Entry {
		return sources.Entry{Path: "d/f \"q\" é", Type: sources.TypeFile, Mode: 0o644, ModTime: time.Unix(1700000000, 5),
			Size: 40, Target: "t", Fingerprint: "40:1700000000000000005:12:1700000000000000005",
			Owner: &sources.Owner{User: "u", Group: "g<&>", UID: 1, GID: 2}, HardLink: 7, Nlink: 2}
	}
	line := func(e sources.Entry, refs []ChunkRef) []byte {
		r := ToFileRecord(File{Entry: e, Chunks: refs})
		b, err := r.AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name string
		e    sources.Entry
		refs []ChunkRef
	}{
		{"every field", full(), chunks},
		{"no chunks", full(), nil},
		{"plain", sources.Entry{Path: "a", Type: sources.TypeFile, ModTime: time.Unix(1, 0), Size: 3}, chunks[:1]},
		{"unknown ids", sources.Entry{Path: "a", Type: sources.TypeFile, ModTime: time.Unix(1, 0), Owner: &sources.Owner{UID: -1, GID: -1}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := line(tc.e, tc.refs)
			e := tc.e
			e.ModTime = e.ModTime.In(time.FixedZone("x", 3600))
			list, same, _ := SameLine(l, &e, nil)
			if !same {
				t.Fatalf("SameLine(%s) = false for its own entry", l)
			}
			got, ok := AppendChunkIDs(nil, list)
			if tc.refs == nil {
				if list != nil {
					t.Errorf("chunk list %q for a line without chunks", list)
				}
				return
			}
			want := []ChunkRef{{ID: id(1), Size: 10}}
			if len(tc.refs) > 1 {
				want = append(want, ChunkRef{ID: id(2), Size: 20})
			}
			if !ok || !slices.Equal(got, want) {
				t.Errorf("chunks %v, %v; want %v", got, ok, want)
			}
		})
	}
	l := line(full(), chunks)
	sourcetest.EachFieldChanged(t, full, func(t *testing.T, e sources.Entry) {
		if _, same, _ := SameLine(l, &e, nil); same {
			t.Error("SameLine misses the change")
		}
	})
	t.Run("line with more", func(t *testing.T) {
		e := full()
		e.Owner, e.HardLink, e.Nlink = nil, 0, 0
		if _, same, _ := SameLine(l, &e, nil); same {
			t.Error("SameLine takes a line with owner and links for an entry without")
		}
		a := full()
		a.Attrs = map[string]string{"k": "v"}
		b := full()
		if _, same, _ := SameLine(line(a, chunks), &b, nil); same {
			t.Error("SameLine takes a line with attributes for an entry without")
		}
	})
}
