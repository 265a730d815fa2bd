// Package sourcetest is the conformance suite every source runs (Run), and
// the in-memory Writer and Version that source tests use instead of the
// store. The Writer enforces what sources.Writer's doc comments promise the
// store enforces, so a source that breaks the contract fails its unit tests
// rather than a backup.
package sourcetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// Writer is an in-memory sources.Writer, safe for concurrent use. It keeps
// every entry and its content, counts what came as new bytes and what was
// referenced from the previous version, and collects events.
type Writer struct {
	prev *Version // what Keep and AddSpans ranges refer to; nil: none

	mu       sync.Mutex
	files    map[string]file
	root     *sources.Entry // the object's root directory, when added
	adds     map[string]int // Add and AddSpans calls of files, failed ones included
	keeps    map[string]int
	same     map[string]int // keeps by KeepSame
	spans    []sources.Span
	events   []sources.Event
	newBytes int64
}

// file is one entry received, with its content.
type file struct {
	entry sources.Entry
	data  []byte
}

var (
	_ sources.Writer     = (*Writer)(nil)
	_ sources.SameKeeper = (*Writer)(nil)
)

// NewWriter returns an empty Writer whose Keep and AddSpans ranges refer to
// prev; nil prev means a first backup, where both fail.
func NewWriter(prev *Version) *Writer {
	return &Writer{prev: prev, files: map[string]file{}, adds: map[string]int{}, keeps: map[string]int{}, same: map[string]int{}}
}

// Add stores e; a file's content is read from r, which must yield exactly
// e.Size bytes.
func (w *Writer) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add %q: %w", e.Path, err)
	}
	if e.Type != sources.TypeFile {
		if r != nil {
			return fmt.Errorf("add %q: a directory or symlink has no content, got a reader", e.Path)
		}
		if e.Path == "" && e.Type == sources.TypeDir {
			return w.setRoot(e)
		}
		return w.record(e, nil)
	}
	w.count(w.adds, e.Path)
	if r == nil {
		return fmt.Errorf("add %q: a file needs a reader", e.Path)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("add %q: read content: %w", e.Path, err)
	}
	if int64(len(data)) != e.Size {
		return fmt.Errorf("add %q: content is %d bytes, the entry says %d", e.Path, len(data), e.Size)
	}
	w.mu.Lock()
	w.newBytes += int64(len(data))
	w.mu.Unlock()
	return w.record(e, data)
}

// AddSpans stores a file assembled from new bytes and ranges of the
// previous version's file at the same path; with e.Size >= 0 the spans
// must add up to it.
func (w *Writer) AddSpans(ctx context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add spans of %q: %w", e.Path, err)
	}
	if e.Type != sources.TypeFile {
		return fmt.Errorf("add spans of %q: not a file", e.Path)
	}
	w.count(w.adds, e.Path)
	var old []byte
	if w.prev != nil {
		old = w.prev.data[e.Path]
	}
	data, spans, err := readSpans(e.Path, old, next)
	if err != nil {
		return err
	}
	if e.Size >= 0 && int64(len(data)) != e.Size {
		return fmt.Errorf("add spans of %q: spans add up to %d bytes, the entry says %d", e.Path, len(data), e.Size)
	}
	e.Size = int64(len(data))
	w.mu.Lock()
	w.spans = append(w.spans, spans...)
	for _, sp := range spans {
		w.newBytes += int64(len(sp.Data))
	}
	w.mu.Unlock()
	return w.record(e, data)
}

// readSpans pulls spans until io.EOF and assembles the file, resolving
// ranges against old. It returns the spans with their Data copied, since
// next may reuse it.
func readSpans(path string, old []byte, next func() (sources.Span, error)) ([]byte, []sources.Span, error) {
	var data []byte
	var spans []sources.Span
	for {
		sp, err := next()
		if errors.Is(err, io.EOF) {
			return data, spans, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("add spans of %q: %w", path, err)
		}
		switch {
		case len(sp.Data) > 0:
			sp.Data = append([]byte(nil), sp.Data...)
			data = append(data, sp.Data...)
		case sp.Len <= 0 || sp.Off < 0:
			return nil, nil, fmt.Errorf("add spans of %q: span %d is empty (no data, range %d+%d)", path, len(spans), sp.Off, sp.Len)
		case sp.Off+sp.Len > int64(len(old)):
			return nil, nil, fmt.Errorf("add spans of %q: range %d+%d lies outside the previous file (%d bytes)", path, sp.Off, sp.Len, len(old))
		default:
			data = append(data, old[sp.Off:sp.Off+sp.Len]...)
		}
		spans = append(spans, sp)
	}
}

// Keep records e with the previous version's content at e.Path, which
// must be a file of e.Size bytes.
func (w *Writer) Keep(ctx context.Context, e sources.Entry) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("keep %q: %w", e.Path, err)
	}
	w.count(w.keeps, e.Path)
	var p sources.Entry
	ok := false
	if w.prev != nil {
		p, ok = w.prev.Lookup(e.Path)
	}
	switch {
	case !ok || p.Type != sources.TypeFile:
		return fmt.Errorf("keep %q: the previous version has no such file", e.Path)
	case e.Type != sources.TypeFile:
		return fmt.Errorf("keep %q: only files are kept", e.Path)
	case e.Size != p.Size:
		return fmt.Errorf("keep %q: the entry says %d bytes, the previous file has %d", e.Path, e.Size, p.Size)
	}
	return w.record(e, w.prev.data[e.Path])
}

// KeepSame keeps e, as Keep does, when the previous version has the same
// entry at e.Path, field for field (mtimes compared as instants).
func (w *Writer) KeepSame(ctx context.Context, e sources.Entry) (bool, error) {
	if w.prev == nil || e.Type != sources.TypeFile {
		return false, nil
	}
	p, ok := w.prev.Lookup(e.Path)
	if !ok || !reflect.DeepEqual(utcEntry(p), utcEntry(e)) {
		return false, nil
	}
	w.count(w.same, e.Path)
	return true, w.Keep(ctx, e)
}

// utcEntry is e with its mtime in UTC, for DeepEqual.
func utcEntry(e sources.Entry) sources.Entry {
	e.ModTime = e.ModTime.UTC()
	return e
}

// Report collects e.
func (w *Writer) Report(e sources.Event) {
	w.mu.Lock()
	w.events = append(w.events, e)
	w.mu.Unlock()
}

func (w *Writer) count(m map[string]int, path string) {
	w.mu.Lock()
	m[path]++
	w.mu.Unlock()
}

// record checks e and stores it; a path may be recorded once.
func (w *Writer) record(e sources.Entry, data []byte) error {
	if err := checkEntry(e); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.files[e.Path]; dup {
		return fmt.Errorf("entry %q added twice", e.Path)
	}
	w.files[e.Path] = file{entry: e, data: data}
	return nil
}

// checkEntry enforces the form of an entry that sources.Entry describes.
func checkEntry(e sources.Entry) error {
	if err := sources.CheckPath(e.Path); err != nil {
		return err
	}
	switch {
	case e.Type > sources.TypeSymlink:
		return fmt.Errorf("entry %q: unknown type %d", e.Path, e.Type)
	case e.Mode&^0o7777 != 0:
		return fmt.Errorf("entry %q: mode %o has bits beyond 0o7777", e.Path, e.Mode)
	case e.Type == sources.TypeSymlink && e.Target == "":
		return fmt.Errorf("entry %q: a symlink without a target", e.Path)
	case e.Type != sources.TypeFile && e.Size != 0:
		return fmt.Errorf("entry %q: only files have a size, got %d", e.Path, e.Size)
	}
	return nil
}

// Paths lists the paths received, sorted.
func (w *Writer) Paths() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, 0, len(w.files))
	for p := range w.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Entry returns the entry received at path. A file written with
// AddSpans and Size -1 has its actual size, as the store records it.
func (w *Writer) Entry(path string) (sources.Entry, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, ok := w.files[path]
	return f.entry, ok
}

// Data returns the content of the file at path (nil if none).
func (w *Writer) Data(path string) []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.files[path].data
}

// Adds returns how often a file at path was added with content (Add or
// AddSpans), failed calls included: a source that retries shows here.
func (w *Writer) Adds(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.adds[path]
}

// Keeps returns how often path was kept.
func (w *Writer) Keeps(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.keeps[path]
}

// SameKeeps returns how often path was kept by KeepSame.
func (w *Writer) SameKeeps(path string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.same[path]
}

// Spans returns every span received by AddSpans, in order per file.
func (w *Writer) Spans() []sources.Span {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sources.Span(nil), w.spans...)
}

// NewBytes is how many bytes came as new content (Add readers and span
// Data), as opposed to Keep and ranges of the previous version: what the
// store would have had to chunk.
func (w *Writer) NewBytes() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.newBytes
}

// Events returns the events reported so far.
func (w *Writer) Events() []sources.Event {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]sources.Event(nil), w.events...)
}

// setRoot records the object's root directory (an Add with the empty
// path), once.
func (w *Writer) setRoot(e sources.Entry) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.root != nil {
		return errors.New("the root directory (empty path) added twice")
	}
	if e.Mode&^0o7777 != 0 {
		return fmt.Errorf("root directory: mode %o has bits beyond 0o7777", e.Mode)
	}
	w.root = &e
	return nil
}

// Root returns the root directory entry the source added, nil if none.
func (w *Writer) Root() *sources.Entry {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.root
}
