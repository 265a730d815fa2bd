package index

import (
	"errors"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

func prevEntry(path string) prevFile {
	return prevFile{File: File{Entry: sources.Entry{Path: path, Type: sources.TypeFile}}}
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
	p.publish([]prevFile{prevEntry("a"), prevEntry("b")}, "a")
	p.publish([]prevFile{prevEntry("a/f")}, "a/b")
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
	p.publish([]prevFile{prevEntry("a/b/h"), prevEntry("b/i")}, "c")
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
