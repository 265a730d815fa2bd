package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// memFile is one file a memWriter received.
type memFile struct {
	entry sources.Entry
	data  []byte
}

// memWriter is an in-memory sources.Writer.
type memWriter struct {
	mu    sync.Mutex
	files map[string]*memFile
	prev  *memVersion // what AddSpans ranges refer to
	spans []sources.Span
}

var _ sources.Writer = (*memWriter)(nil)

func newMemWriter() *memWriter { return &memWriter{files: map[string]*memFile{}} }

func (w *memWriter) put(f *memFile) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.files[f.entry.Path]; dup {
		return fmt.Errorf("%s added twice", f.entry.Path)
	}
	w.files[f.entry.Path] = f
	return nil
}

func (w *memWriter) Add(_ context.Context, e sources.Entry, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if int64(len(b)) != e.Size {
		return fmt.Errorf("%s: got %d bytes, entry says %d", e.Path, len(b), e.Size)
	}
	return w.put(&memFile{entry: e, data: b})
}

func (w *memWriter) AddSpans(_ context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	f := &memFile{entry: e}
	for {
		sp, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch {
		case len(sp.Data) > 0:
			f.data = append(f.data, sp.Data...)
			sp.Data = append([]byte(nil), sp.Data...)
		case sp.Len > 0:
			var old []byte
			if w.prev != nil {
				old = w.prev.data[e.Path]
			}
			if sp.Off+sp.Len > int64(len(old)) {
				return fmt.Errorf("%s: span %d+%d outside the previous file", e.Path, sp.Off, sp.Len)
			}
			f.data = append(f.data, old[sp.Off:sp.Off+sp.Len]...)
		default:
			return fmt.Errorf("%s: empty span", e.Path)
		}
		w.spans = append(w.spans, sp)
	}
	if e.Size >= 0 && int64(len(f.data)) != e.Size {
		return fmt.Errorf("%s: got %d bytes, entry says %d", e.Path, len(f.data), e.Size)
	}
	f.entry.Size = int64(len(f.data))
	return w.put(f)
}

func (w *memWriter) Report(sources.Event) {}

func (w *memWriter) Keep(context.Context, sources.Entry) error {
	return errors.New("memWriter has no previous version")
}

// version returns what was written as a VersionReader.
func (w *memWriter) version() *memVersion {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &memVersion{data: map[string][]byte{}}
	for p, f := range w.files {
		v.entries = append(v.entries, f.entry)
		v.data[p] = f.data
	}
	sort.Slice(v.entries, func(i, j int) bool { return v.entries[i].Path < v.entries[j].Path })
	return v
}

// memVersion is an in-memory sources.VersionReader.
type memVersion struct {
	entries []sources.Entry
	data    map[string][]byte
}

var _ sources.VersionReader = (*memVersion)(nil)

func (v *memVersion) Entries() []sources.Entry  { return v.entries }
func (v *memVersion) Info() sources.VersionInfo { return sources.VersionInfo{} }

func (v *memVersion) Open(_ context.Context, path string) (io.ReadCloser, error) {
	b, ok := v.data[path]
	if !ok {
		return nil, fmt.Errorf("%s: not in version", path)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Lookup and Open make a memVersion a sources.PreviousReader.
func (v *memVersion) Lookup(path string) (sources.Entry, bool) {
	for _, e := range v.entries {
		if e.Path == path {
			return e, true
		}
	}
	return sources.Entry{}, false
}

// versionOf builds a memVersion from path → content.
func versionOf(files map[string][]byte) *memVersion {
	v := &memVersion{data: files}
	for p, b := range files {
		v.entries = append(v.entries, fileEntry(p, testTime, int64(len(b))))
	}
	sort.Slice(v.entries, func(i, j int) bool { return v.entries[i].Path < v.entries[j].Path })
	return v
}
