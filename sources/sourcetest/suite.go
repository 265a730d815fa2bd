package sourcetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Run runs the conformance suite against the source h builds. Every
// sub-test starts from a fresh fixture.
func Run(t *testing.T, h Harness) {
	if h.Setup == nil || h.Change == nil {
		t.Fatal("sourcetest: Harness needs Setup and Change")
	}
	t.Run("entries", func(t *testing.T) { testEntries(t, h) })
	t.Run("sizes", func(t *testing.T) { testSizes(t, h) })
	t.Run("unchanged", func(t *testing.T) { testUnchanged(t, h) })
	t.Run("change", func(t *testing.T) { testChange(t, h) })
	t.Run("keep", func(t *testing.T) { testKeep(t, h) })
	t.Run("progress", func(t *testing.T) { testProgress(t, h) })
	t.Run("cancel", func(t *testing.T) { testCancel(t, h) })
	t.Run("hostile", func(t *testing.T) { testHostile(t, h) })
	t.Run("sessions", func(t *testing.T) { testSessions(t, h) })
	t.Run("close", func(t *testing.T) { testClose(t, h) })
}

// setup builds a fixture of specs and closes the source when the test
// ends.
func setup(t *testing.T, h Harness, specs ...Spec) (sources.Source, []sources.Object) {
	t.Helper()
	src, objs := h.Setup(t, specs)
	t.Cleanup(func() {
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if len(objs) != len(specs) {
		t.Fatalf("Setup returned %d objects for %d specs", len(objs), len(specs))
	}
	return src, objs
}

// backup backs up obj against prev (nil: a first backup) and returns the
// writer and the version it makes.
func backup(t *testing.T, src sources.Source, obj sources.Object, prev *Version) (*Writer, *Version) {
	t.Helper()
	w := NewWriter(prev)
	var p sources.Previous = sources.NoPrevious{}
	if prev != nil {
		p = prev
	}
	res, err := src.Backup(context.Background(), obj, p, w)
	if err != nil {
		t.Fatalf("backup of %s: %v", obj, err)
	}
	if res.At.IsZero() {
		t.Errorf("backup of %s: Result.At is zero, want the version's consistent point", obj)
	}
	return w, w.Version().WithInfo(sources.VersionInfo{Time: res.At.UTC().Truncate(time.Second), Kind: src.Kind(), Meta: res.Meta})
}

// testEntries checks the form of a version: known types, paths, and
// parents that are directories where they are entries at all.
func testEntries(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec(), smallSpec())
	for _, obj := range objs {
		w, _ := backup(t, src, obj, nil)
		checkEntries(t, w)
	}
}

// testSizes checks that every file's size is its content's length and,
// for file sources, that items are files with their content.
func testSizes(t *testing.T, h Harness) {
	specs := []Spec{bigSpec(), smallSpec()}
	src, objs := setup(t, h, specs...)
	for i, obj := range objs {
		w, _ := backup(t, src, obj, nil)
		for _, p := range w.Paths() {
			e, _ := w.Entry(p)
			if e.Type == sources.TypeFile && e.Size != int64(len(w.Data(p))) {
				t.Errorf("%s: %q has size %d, content %d bytes", obj, p, e.Size, len(w.Data(p)))
			}
		}
		if h.Files {
			checkItems(t, w, specs[i].Items)
		}
	}
}

// testUnchanged backs up an object twice: the second version must hold
// the same files, and a source that reuses must add (almost) no bytes.
func testUnchanged(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec())
	_, v1 := backup(t, src, objs[0], nil)
	w2, v2 := backup(t, src, objs[0], v1)
	sameFiles(t, v1, v2)
	total := contentBytes(v2)
	t.Logf("second backup: %d new bytes of %d, %d spans", w2.NewBytes(), total, len(w2.Spans()))
	if h.Reuses && w2.NewBytes()*20 > total {
		t.Errorf("second backup of unchanged data added %d new bytes of %d; want unchanged content kept or referenced (Keep, AddSpans ranges)", w2.NewBytes(), total)
	}
}

// testChange changes one item and checks that the next version shows it,
// costing (for a reusing source) less than half the bytes.
func testChange(t *testing.T, h Harness) {
	spec := bigSpec()
	src, objs := setup(t, h, spec)
	_, v1 := backup(t, src, objs[0], nil)
	item := spec.Items[len(spec.Items)/2]
	item.Data = append(bytes.Repeat([]byte("changed "), 8), item.Data...)
	h.Change(t, objs[0], item)
	w2, v2 := backup(t, src, objs[0], v1)
	if equalFiles(v1, v2) {
		t.Fatalf("after changing item %q, the second version equals the first", item.Name)
	}
	if h.Files {
		if got := w2.Data(item.Name); !bytes.Equal(got, item.Data) {
			t.Errorf("changed file %q: %d bytes in the version, want the new %d", item.Name, len(got), len(item.Data))
		}
	}
	total := contentBytes(v2)
	t.Logf("after one change: %d new bytes of %d", w2.NewBytes(), total)
	if w2.NewBytes() == 0 {
		t.Error("a changed item cost no new bytes")
	}
	if h.Reuses && w2.NewBytes()*2 > total {
		t.Errorf("one changed item cost %d new bytes of %d; want the rest referenced", w2.NewBytes(), total)
	}
}

// testKeep backs up against a previous version that lacks half its files:
// the Writer fails a Keep of any of them, and the version must still hold
// every file with the right content.
func testKeep(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec())
	_, v1 := backup(t, src, objs[0], nil)
	drop := map[string]bool{}
	for i, e := range v1.Entries() {
		if e.Type == sources.TypeFile && i%2 == 0 {
			drop[e.Path] = true
		}
	}
	_, v2 := backup(t, src, objs[0], v1.without(drop))
	sameFiles(t, v1, v2)
}

// testProgress requires at least one event while backing up the
// non-trivial object, and sane counts in every event.
func testProgress(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec())
	w, _ := backup(t, src, objs[0], nil)
	events := w.Events()
	if len(events) == 0 {
		t.Fatalf("no event reported while backing up %d items; report progress through Writer.Report", bigItems)
	}
	for _, e := range events {
		if e.Step == "" || e.Done < 0 || e.Total < 0 || (e.Total > 0 && e.Done > e.Total) {
			t.Errorf("event %+v: want a Step and 0 <= Done <= Total (or Total 0)", e)
		}
	}
	t.Logf("%d events, last %+v", len(events), events[len(events)-1])
}

// testClose closes a source that has done a backup.
func testClose(t *testing.T, h Harness) {
	src, objs := h.Setup(t, []Spec{smallSpec()})
	w := NewWriter(nil)
	if _, err := src.Backup(context.Background(), objs[0], sources.NoPrevious{}, w); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// testSessions backs up two objects in one session. A SessionSource must
// give a non-zero At that both versions carry.
func testSessions(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec(), smallSpec())
	ctx := context.Background()
	s, err := sources.Begin(ctx, src, objs, sources.Discard)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Session.Close: %v", err)
		}
	}()
	_, isSession := src.(sources.SessionSource)
	if isSession && s.At().IsZero() {
		t.Error("Session.At is zero")
	}
	for _, obj := range objs {
		res, err := s.Backup(ctx, obj, sources.NoPrevious{}, NewWriter(nil))
		if err != nil {
			t.Fatalf("session backup of %s: %v", obj, err)
		}
		if isSession && !res.At.Equal(s.At()) {
			t.Errorf("session backup of %s: Result.At %v, want the session's %v", obj, res.At, s.At())
		}
	}
}
