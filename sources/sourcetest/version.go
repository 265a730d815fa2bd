package sourcetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"sort"

	"github.com/stratabackup/strata/sources"
)

// Version is a finished version in memory: the Previous of the next backup
// (a sources.PreviousReader, so row sources can refer to its files) and a
// sources.VersionReader for a Differ or a Loader.
type Version struct {
	info    sources.VersionInfo
	entries []sources.Entry // sorted by Path
	byPath  map[string]sources.Entry
	data    map[string][]byte
}

var (
	_ sources.PreviousReader = (*Version)(nil)
	_ sources.VersionReader  = (*Version)(nil)
)

// Version returns what w received as a version with a zero VersionInfo
// (see WithInfo). Parent directories that no entry names are added with
// mode 0755, as the store creates them.
func (w *Writer) Version() *Version {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := &Version{byPath: map[string]sources.Entry{}, data: map[string][]byte{}}
	for p, f := range w.files {
		v.byPath[p] = f.entry
		if f.entry.Type == sources.TypeFile {
			v.data[p] = f.data
		}
	}
	for p := range w.files {
		for dir := path.Dir(p); dir != "."; dir = path.Dir(dir) {
			if _, ok := v.byPath[dir]; !ok {
				v.byPath[dir] = sources.Entry{Path: dir, Type: sources.TypeDir, Mode: 0o755}
			}
		}
	}
	for _, e := range v.byPath {
		v.entries = append(v.entries, e)
	}
	sort.Slice(v.entries, func(i, j int) bool { return v.entries[i].Path < v.entries[j].Path })
	return v
}

// WithInfo returns v with info as its VersionInfo, as a stored version
// knows its time, kind and metadata.
func (v *Version) WithInfo(info sources.VersionInfo) *Version {
	c := *v
	c.info = info
	return &c
}

// Info returns the version's time, kind and metadata.
func (v *Version) Info() sources.VersionInfo { return v.info }

// Entries lists every entry, sorted by Path.
func (v *Version) Entries() []sources.Entry { return append([]sources.Entry(nil), v.entries...) }

// Lookup returns the entry at path.
func (v *Version) Lookup(path string) (sources.Entry, bool) {
	e, ok := v.byPath[path]
	return e, ok
}

// Open returns the content of the file at path.
func (v *Version) Open(_ context.Context, path string) (io.ReadCloser, error) {
	b, ok := v.data[path]
	if !ok {
		return nil, fmt.Errorf("open %q: no such file in the version", path)
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// without returns v less the entries at paths (and their content): the
// previous version of a source that must not keep them.
func (v *Version) without(paths map[string]bool) *Version {
	c := &Version{info: v.info, byPath: map[string]sources.Entry{}, data: map[string][]byte{}}
	for _, e := range v.entries {
		if paths[e.Path] {
			continue
		}
		c.entries = append(c.entries, e)
		c.byPath[e.Path] = e
		if b, ok := v.data[e.Path]; ok {
			c.data[e.Path] = b
		}
	}
	return c
}
