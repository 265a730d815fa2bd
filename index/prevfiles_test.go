package index

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

func prevEntry(path string) prevEnt {
	rec := format.ToFileRecord(File{Entry: sources.Entry{Path: path, Type: sources.TypeFile}})
	line, err := rec.AppendLine(nil)
	if err != nil {
		panic(err)
	}
	return prevEnt{path: path, val: line}
}

// answered reports whether get(path) returns within a short while, and
// what it returned.
func answered(p *prevFiles, path string) (ok, found bool) {
	res := make(chan bool, 1)
	go func() { _, f := p.get(path); res <- f }()
	select {
	case f := <-res:
		return true, f
	case <-time.After(100 * time.Millisecond):
		return false, false
	}
}

// A lookup waits only until the load has passed its directory: the
// directories before the load's front answer (found or not), later ones
// wait, and the end of the load (or its failure) answers every one.
func TestPrevFilesAnswerBehindTheFront(t *testing.T) {
	p := newPrevFiles()
	if ok, _ := answered(p, "x"); ok {
		t.Fatal("a root entry answered before the root was loaded")
	}
	p.publish([]prevEnt{prevEntry("a"), prevEntry("b")}, "a")
	p.publish([]prevEnt{prevEntry("a/f")}, "a/b")
	for _, c := range []struct {
		path          string
		answers, want bool
	}{
		{"a", true, true},         // root, loaded
		{"zz", true, false},       // root, loaded, absent
		{"a/f", true, true},       // a, loaded
		{"a-b/g", true, false},    // a-b sorts before a/b: no entries there
		{"a/b/h", false, false},   // the front: still loading
		{"b/i", false, false},     // beyond the front
		{"a/b/c/j", false, false}, // beyond the front
	} {
		ok, found := answered(p, c.path)
		if ok != c.answers || found != c.want {
			t.Errorf("get(%q): answered %v found %v; want answered %v found %v", c.path, ok, found, c.answers, c.want)
		}
	}
	waiting := make(chan bool)
	go func() { _, f := p.get("b/i"); waiting <- f }()
	p.publish([]prevEnt{prevEntry("a/b/h"), prevEntry("b/i")}, "c")
	if !<-waiting {
		t.Error("b/i not found once its directory was loaded")
	}
	q := newPrevFiles()
	go func() { _, f := q.get("d/e"); waiting <- f }()
	q.finish(errors.New("catalog gone"))
	if <-waiting {
		t.Error("a failed load found an entry")
	}
	if ok, found := answered(q, "d/e"); !ok || found {
		t.Errorf("after a failed load: answered %v found %v, want an immediate miss", ok, found)
	}
}

// An entry is decoded when looked up; one that does not decode is not
// found, and the load then ends in an error naming it, so the backup
// fails instead of storing the file anew unnoticed.
func TestPrevFilesBadRecordFailsTheLoad(t *testing.T) {
	p := newPrevFiles()
	p.publish([]prevEnt{prevEntry("a"), {path: "b", val: []byte("{not a record")}}, "")
	p.finish(nil)
	if _, found := p.get("a"); !found {
		t.Fatal("a good entry was not found")
	}
	if err := p.wait(); err != nil {
		t.Fatalf("wait before the bad entry was read: %v", err)
	}
	if _, found := p.get("b"); found {
		t.Fatal("an entry that does not decode was found")
	}
	if err := p.wait(); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Fatalf("wait after the bad entry: %v, want an error naming it", err)
	}
	var seen []string
	err := p.each(func(f prevFile) error { seen = append(seen, f.Path); return nil })
	if err == nil || len(seen) != 0 {
		t.Fatalf("each over a failed load: %v, saw %v", err, seen)
	}
}

// each yields the entries in the catalog's order, decoded, with the
// paths and lines they were stored with.
func TestPrevFilesEach(t *testing.T) {
	p := newPrevFiles()
	p.lines = true
	p.publish([]prevEnt{prevEntry("a"), prevEntry("b")}, "a")
	p.publish([]prevEnt{prevEntry("a/f")}, "")
	p.finish(nil)
	var seen []string
	if err := p.each(func(f prevFile) error {
		if f.line == nil || f.Type != sources.TypeFile {
			t.Errorf("%s: line %q type %v", f.Path, f.line, f.Type)
		}
		seen = append(seen, f.Path)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(seen, ",") != "a,b,a/f" {
		t.Fatalf("each saw %v", seen)
	}
}

// A Keep right after a Lookup takes the Lookup's decode instead of
// decoding again: seen here by damaging the stored record in between,
// which a second decode would refuse. A Keep with no Lookup before it
// (or after its slot was taken) decodes as get does.
func TestPrevFilesKeptReusesTheLookup(t *testing.T) {
	p := newPrevFiles()
	a, b := prevEntry("a"), prevEntry("b")
	p.publish([]prevEnt{a, b}, "")
	p.finish(nil)
	if _, ok := p.lookup("a"); !ok {
		t.Fatal("lookup(a) found nothing")
	}
	copy(a.val, "{not a record")
	f, ok := p.kept("a")
	if !ok || f.Path != "a" {
		t.Errorf("kept(a) after lookup(a) = %+v, %v; want the looked-up entry", f, ok)
	}
	if _, ok := p.kept("a"); ok {
		t.Error("kept(a) again found the damaged record: the slot was not emptied, or the record decoded")
	}
	if f, ok := p.kept("b"); !ok || f.Path != "b" {
		t.Errorf("kept(b) without a lookup = %+v, %v; want b decoded", f, ok)
	}
}

// TestSameEntrySeesEveryField changes each field of an entry in turn:
// sameEntry must see the change (a kept file would otherwise reuse a
// stale line), and must find equal entries equal, whatever the time
// zone of their mtimes.
func TestSameEntrySeesEveryField(t *testing.T) {
	full := func() sources.Entry {
		return sources.Entry{Path: "d/f", Type: sources.TypeFile, Mode: 0o644, ModTime: time.Unix(1700000000, 5),
			Size: 10, Target: "t", Fingerprint: "fp", Owner: &sources.Owner{User: "u", Group: "g", UID: 1, GID: 2},
			Attrs: map[string]string{"k": "v"}, HardLink: 7, Nlink: 2}
	}
	a, b := full(), full()
	b.ModTime = b.ModTime.In(time.FixedZone("x", 3600))
	b.Owner = &sources.Owner{User: "u", Group: "g", UID: 1, GID: 2}
	if !sameEntry(&a, &b) {
		t.Fatal("equal entries (mtime in another zone, owner another pointer) are not the same")
	}
	o := full()
	if sameEntry(&o, &sources.Entry{Path: o.Path, Type: o.Type, Mode: o.Mode, ModTime: o.ModTime, Size: o.Size,
		Target: o.Target, Fingerprint: o.Fingerprint, Attrs: o.Attrs, HardLink: o.HardLink, Nlink: o.Nlink}) {
		t.Error("an entry without an owner is the same as one with")
	}
	sourcetest.EachFieldChanged(t, full, func(t *testing.T, e sources.Entry) {
		base := full()
		if sameEntry(&base, &e) || sameEntry(&e, &base) {
			t.Error("sameEntry misses the change")
		}
	})
}
