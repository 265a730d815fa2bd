package posix

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// fakeWriter records what a backup gives it, checks sizes as the real
// Writer does, and counts Add (content read) and Keep per path.
type fakeWriter struct {
	mu      sync.Mutex
	entries map[string]sources.Entry
	content map[string][]byte
	adds    map[string]int // file Adds per path, including failed ones
	keeps   map[string]int
	// onRead, if set, runs after the first Read of each file Add, with the
	// path and the how-many-th Add of that path it is.
	onRead func(path string, attempt int)
	// failPath makes Add of that path fail.
	failPath string
}

func newFakeWriter() *fakeWriter {
	return &fakeWriter{
		entries: map[string]sources.Entry{},
		content: map[string][]byte{},
		adds:    map[string]int{},
		keeps:   map[string]int{},
	}
}

var _ sources.Writer = (*fakeWriter)(nil)

func (w *fakeWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if e.Path == w.failPath {
		return fmt.Errorf("injected failure")
	}
	if r == nil {
		w.record(e, nil)
		return nil
	}
	w.mu.Lock()
	w.adds[e.Path]++
	attempt := w.adds[e.Path]
	w.mu.Unlock()
	data, err := w.read(e.Path, attempt, r)
	if err != nil {
		return fmt.Errorf("read content: %w", err)
	}
	if int64(len(data)) != e.Size {
		return fmt.Errorf("got %d bytes, entry says %d", len(data), e.Size)
	}
	w.record(e, data)
	return nil
}

// read reads r to EOF in small pieces, calling onRead after the first.
func (w *fakeWriter) read(path string, attempt int, r io.Reader) ([]byte, error) {
	var data bytes.Buffer
	buf := make([]byte, 4096)
	for first := true; ; first = false {
		n, err := r.Read(buf)
		data.Write(buf[:n])
		if first && w.onRead != nil {
			w.onRead(path, attempt)
		}
		if err == io.EOF {
			return data.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (w *fakeWriter) AddSpans(context.Context, sources.Entry, func() (sources.Span, error)) error {
	return fmt.Errorf("posix does not use AddSpans")
}

func (w *fakeWriter) Report(sources.Event) {}

func (w *fakeWriter) Keep(ctx context.Context, e sources.Entry) error {
	w.mu.Lock()
	w.keeps[e.Path]++
	w.mu.Unlock()
	w.record(e, nil)
	return nil
}

func (w *fakeWriter) record(e sources.Entry, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, dup := w.entries[e.Path]; dup {
		panic("entry added twice: " + e.Path)
	}
	w.entries[e.Path] = e
	if data != nil {
		w.content[e.Path] = data
	}
}

// previous returns the recorded entries as the Previous of a next backup.
func (w *fakeWriter) previous() sources.Previous {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := make(mapPrevious, len(w.entries))
	for p, e := range w.entries {
		m[p] = e
	}
	return m
}

type mapPrevious map[string]sources.Entry

func (m mapPrevious) Lookup(path string) (sources.Entry, bool) {
	e, ok := m[path]
	return e, ok
}

func (m mapPrevious) Info() sources.VersionInfo { return sources.VersionInfo{} }

func (m mapPrevious) Entries() []sources.Entry {
	var out []sources.Entry
	for _, e := range m {
		out = append(out, e)
	}
	return out
}
