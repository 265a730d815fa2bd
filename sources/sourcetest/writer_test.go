package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

func fileEntry(path string, size int64) sources.Entry {
	return sources.Entry{Path: path, Type: sources.TypeFile, Mode: 0o644, Size: size}
}

// spans returns a next function yielding ss, then io.EOF.
func spans(ss ...sources.Span) func() (sources.Span, error) {
	return func() (sources.Span, error) {
		if len(ss) == 0 {
			return sources.Span{}, io.EOF
		}
		sp := ss[0]
		ss = ss[1:]
		return sp, nil
	}
}

func TestWriterEnforcesContract(t *testing.T) {
	ctx := context.Background()
	first := NewWriter(nil)
	if err := first.Add(ctx, fileEntry("dir/old", 6), strings.NewReader("abcdef")); err != nil {
		t.Fatal(err)
	}
	prev := first.Version()
	cases := []struct {
		name string
		call func(w *Writer) error
		want string // in the error; "" for none
	}{
		{"add", func(w *Writer) error { return w.Add(ctx, fileEntry("f", 3), strings.NewReader("abc")) }, ""},
		{"add short", func(w *Writer) error { return w.Add(ctx, fileEntry("f", 4), strings.NewReader("abc")) }, "entry says 4"},
		{"add long", func(w *Writer) error { return w.Add(ctx, fileEntry("f", 2), strings.NewReader("abc")) }, "entry says 2"},
		{"file without reader", func(w *Writer) error { return w.Add(ctx, fileEntry("f", 0), nil) }, "needs a reader"},
		{"dir with reader", func(w *Writer) error {
			return w.Add(ctx, sources.Entry{Path: "d", Type: sources.TypeDir}, strings.NewReader(""))
		}, "no content"},
		{"symlink without target", func(w *Writer) error { return w.Add(ctx, sources.Entry{Path: "l", Type: sources.TypeSymlink}, nil) }, "without a target"},
		{"mode bits", func(w *Writer) error {
			return w.Add(ctx, sources.Entry{Path: "d", Type: sources.TypeDir, Mode: 0o40755}, nil)
		}, "mode"},
		{"leading slash", func(w *Writer) error { return w.Add(ctx, sources.Entry{Path: "/d", Type: sources.TypeDir}, nil) }, "component"},
		{"dot-dot", func(w *Writer) error { return w.Add(ctx, sources.Entry{Path: "a/../d", Type: sources.TypeDir}, nil) }, "component"},
		{"empty path", func(w *Writer) error {
			return w.Add(ctx, sources.Entry{Type: sources.TypeSymlink, Target: "x"}, nil)
		}, "empty path"},
		{"root directory", func(w *Writer) error { return w.Add(ctx, sources.Entry{Type: sources.TypeDir, Mode: 0o750}, nil) }, ""},
		{"root twice", func(w *Writer) error {
			_ = w.Add(ctx, sources.Entry{Type: sources.TypeDir}, nil)
			return w.Add(ctx, sources.Entry{Type: sources.TypeDir}, nil)
		}, "twice"},
		{"added twice", func(w *Writer) error {
			_ = w.Add(ctx, sources.Entry{Path: "d", Type: sources.TypeDir}, nil)
			return w.Add(ctx, sources.Entry{Path: "d", Type: sources.TypeDir}, nil)
		}, "twice"},
		{"keep", func(w *Writer) error { return w.Keep(ctx, fileEntry("dir/old", 6)) }, ""},
		{"keep missing", func(w *Writer) error { return w.Keep(ctx, fileEntry("other", 6)) }, "no such file"},
		{"keep a directory of the previous version", func(w *Writer) error { return w.Keep(ctx, fileEntry("dir", 0)) }, "no such file"},
		{"keep other size", func(w *Writer) error { return w.Keep(ctx, fileEntry("dir/old", 5)) }, "previous file has 6"},
		{"spans", func(w *Writer) error {
			return w.AddSpans(ctx, fileEntry("dir/old", 7), spans(sources.Span{Off: 3, Len: 3}, sources.Span{Data: []byte("x")}, sources.Span{Off: 0, Len: 3}))
		}, ""},
		{"spans do not add up", func(w *Writer) error {
			return w.AddSpans(ctx, fileEntry("dir/old", 7), spans(sources.Span{Off: 0, Len: 6}))
		}, "add up to 6"},
		{"range outside", func(w *Writer) error {
			return w.AddSpans(ctx, fileEntry("dir/old", -1), spans(sources.Span{Off: 4, Len: 3}))
		}, "outside"},
		{"empty span", func(w *Writer) error { return w.AddSpans(ctx, fileEntry("dir/old", -1), spans(sources.Span{})) }, "empty"},
		{"failing next", func(w *Writer) error {
			return w.AddSpans(ctx, fileEntry("f", -1), func() (sources.Span, error) { return sources.Span{}, errors.New("boom") })
		}, "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call(NewWriter(prev))
			if c.want == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err = %v, want one saying %q", err, c.want)
			}
		})
	}
	if err := NewWriter(nil).Keep(ctx, fileEntry("dir/old", 6)); err == nil {
		t.Error("Keep without a previous version succeeded")
	}
}

func TestWriterRecordsAndVersion(t *testing.T) {
	ctx := context.Background()
	first := NewWriter(nil)
	if err := first.Add(ctx, fileEntry("a/b/old", 6), strings.NewReader("abcdef")); err != nil {
		t.Fatal(err)
	}
	prev := first.Version()
	w := NewWriter(prev)
	if err := w.AddSpans(ctx, fileEntry("a/b/old", -1), spans(sources.Span{Off: 3, Len: 3}, sources.Span{Data: []byte("XY")})); err != nil {
		t.Fatal(err)
	}
	if err := w.Keep(ctx, fileEntry("a/b/old", 6)); err == nil {
		t.Error("a path both added and kept was accepted")
	}
	w.Report(sources.Event{Step: "files", Done: 1})
	if e, _ := w.Entry("a/b/old"); e.Size != 5 || string(w.Data("a/b/old")) != "defXY" {
		t.Errorf("spanned file: size %d, data %q; want 5, defXY", e.Size, w.Data("a/b/old"))
	}
	if w.NewBytes() != 2 || len(w.Spans()) != 2 || w.Adds("a/b/old") != 1 || w.Keeps("a/b/old") != 1 || len(w.Events()) != 1 {
		t.Errorf("new %d, spans %d, adds %d, keeps %d, events %d", w.NewBytes(), len(w.Spans()), w.Adds("a/b/old"), w.Keeps("a/b/old"), len(w.Events()))
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	v := w.Version().WithInfo(sources.VersionInfo{Time: at, Kind: "k"})
	var got []string
	for _, e := range v.Entries() {
		got = append(got, fmt.Sprintf("%s:%d", e.Path, e.Type))
	}
	if strings.Join(got, " ") != "a:1 a/b:1 a/b/old:0" || v.Info().Kind != "k" || !v.Info().Time.Equal(at) {
		t.Errorf("version entries %v, info %+v; want implied directories a and a/b", got, v.Info())
	}
	rc, err := v.Open(ctx, "a/b/old")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(rc); string(b) != "defXY" {
		t.Errorf("Open: %q", b)
	}
	if _, err := v.Open(ctx, "a"); err == nil {
		t.Error("Open of a directory succeeded")
	}
}

func TestWriterConcurrent(t *testing.T) {
	w := NewWriter(nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := bytes.Repeat([]byte{byte(i)}, i)
			if err := w.Add(context.Background(), fileEntry(fmt.Sprintf("d/f%02d", i), int64(i)), bytes.NewReader(data)); err != nil {
				t.Error(err)
			}
			w.Report(sources.Event{Step: "files", Done: int64(i)})
		}()
	}
	wg.Wait()
	if len(w.Paths()) != 50 || len(w.Events()) != 50 || w.NewBytes() != 49*50/2 {
		t.Errorf("%d paths, %d events, %d new bytes", len(w.Paths()), len(w.Events()), w.NewBytes())
	}
}

func TestWriterCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewWriter(nil).Add(ctx, fileEntry("f", 0), strings.NewReader("")); !errors.Is(err, context.Canceled) {
		t.Errorf("Add with a cancelled context: %v", err)
	}
}
