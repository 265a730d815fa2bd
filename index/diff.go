package index

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/stratabackup/strata/sources"
)

// virtualTree is a computed version (a @diff) held in memory: entries by
// path (for row-source diffs with their content in File.content).
type virtualTree struct {
	files map[string]File
}

func (d *virtualTree) readDir(dir string) []File {
	var out []File
	for p, f := range d.files {
		if pd, _ := splitPath(p); pd == dir && p != "" {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (d *virtualTree) lookup(path string) (File, error) {
	if f, ok := d.files[path]; ok {
		return f, nil
	}
	return File{}, fmt.Errorf("%s in diff: %w", path, ErrNotFound)
}

func (s *Store) virtual(v Version) (*virtualTree, bool) {
	if !strings.HasPrefix(v.Name, "@diff/") {
		return nil, false
	}
	d, ok := s.diffs.Load(v.Name)
	if !ok {
		return nil, false
	}
	return d.(*DiffResult).tree, true
}

// entriesOf loads every entry of a version by path.
func (s *Store) entriesOf(ctx context.Context, v *Version) (map[string]File, error) {
	out := map[string]File{}
	if v == nil {
		return out, nil
	}
	err := s.Walk(ctx, *v, "", func(f File) error {
		out[f.Path] = f
		return nil
	})
	return out, err
}

// Diff returns what changed in (from, to]; from nil means everything in
// to. Results are cached: the mount asks often for the same range.
func (s *Store) Diff(ctx context.Context, from *Version, to Version) (DiffResult, error) {
	fromName := ""
	if from != nil {
		fromName = from.Name
	}
	key := "@diff/" + fromName + ".." + to.Name
	if d, ok := s.diffs.Load(key); ok {
		return *d.(*DiffResult), nil
	}
	a, err := s.entriesOf(ctx, from)
	if err != nil {
		return DiffResult{}, err
	}
	b, err := s.entriesOf(ctx, &to)
	if err != nil {
		return DiffResult{}, err
	}
	res := &DiffResult{Version: to, tree: &virtualTree{files: map[string]File{"": {Entry: rootEntry(to)}}}}
	res.Version.Name = key
	if differ, ok := s.opts.Differs[to.Kind]; ok && from != nil {
		w := &memWriter{tree: res.tree}
		if err := differ.Diff(ctx, s.versionReader(*from, a), s.versionReader(to, b), w); err != nil {
			return DiffResult{}, fmt.Errorf("diff %s..%s: %w", TimeName(from.Time), TimeName(to.Time), err)
		}
	} else {
		fileDiff(a, b, res)
	}
	s.diffs.Store(key, res)
	return *res, nil
}

func fileDiff(a, b map[string]File, res *DiffResult) {
	for p, f := range b {
		old, ok := a[p]
		if ok && sameFile(old, f) {
			continue
		}
		if f.Type == sources.TypeDir && ok {
			continue // a directory whose metadata changed shows only if it holds changes
		}
		res.tree.files[p] = f
		for d, _ := splitPath(p); d != ""; d, _ = splitPath(d) {
			if _, ok := res.tree.files[d]; ok {
				break
			}
			res.tree.files[d] = b[d]
		}
	}
	for p := range a {
		if _, ok := b[p]; !ok {
			res.Deleted = append(res.Deleted, p)
		}
	}
	sort.Strings(res.Deleted)
}

func sameFile(a, b File) bool {
	if a.Type != b.Type || a.Size != b.Size || a.Mode != b.Mode || !a.ModTime.Equal(b.ModTime) || a.Target != b.Target || len(a.Chunks) != len(b.Chunks) {
		return false
	}
	for i := range a.Chunks {
		if a.Chunks[i] != b.Chunks[i] {
			return false
		}
	}
	return true
}

// versionReader gives a Differ access to a stored version.
func (s *Store) versionReader(v Version, files map[string]File) sources.VersionReader {
	return &storedVersion{s: s, v: v, files: files}
}

// VersionReader gives a source's loader (a restore into a database) read
// access to a version or a computed @diff.
func (s *Store) VersionReader(ctx context.Context, v Version) (sources.VersionReader, error) {
	files, err := s.entriesOf(ctx, &v)
	if err != nil {
		return nil, err
	}
	return s.versionReader(v, files), nil
}

type storedVersion struct {
	s     *Store
	v     Version
	files map[string]File
}

func (sv *storedVersion) Info() sources.VersionInfo { return versionInfo(sv.v) }

func versionInfo(v Version) sources.VersionInfo {
	return sources.VersionInfo{Time: v.Time, Kind: v.Kind, Meta: v.Meta}
}

func (sv *storedVersion) Entries() []sources.Entry {
	out := make([]sources.Entry, 0, len(sv.files))
	for _, f := range sv.files {
		out = append(out, f.Entry)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (sv *storedVersion) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	f, ok := sv.files[path]
	if !ok || f.Type != sources.TypeFile {
		return nil, fmt.Errorf("open %s in %s: %w", path, sv.v.Name, ErrNotFound)
	}
	return sv.s.NewStreamReader(ctx, f), nil
}

// memWriter collects a Differ's output in memory.
type memWriter struct {
	mu   sync.Mutex
	tree *virtualTree
}

func (w *memWriter) put(e sources.Entry, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := File{Entry: e}
	if e.Type == sources.TypeFile {
		f.Size = int64(len(data))
		f.content = data
	}
	w.tree.files[e.Path] = f
}

func (w *memWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	var data []byte
	if r != nil {
		var err error
		if data, err = io.ReadAll(r); err != nil {
			return err
		}
	}
	w.put(e, data)
	return nil
}

func (w *memWriter) AddSpans(ctx context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	var buf bytes.Buffer
	for {
		sp, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if len(sp.Data) == 0 && sp.Len > 0 {
			return fmt.Errorf("add %s: a diff has no previous version to refer to", e.Path)
		}
		buf.Write(sp.Data)
	}
	e.Type = sources.TypeFile
	w.put(e, buf.Bytes())
	return nil
}

// Report drops a Differ's events: a diff is computed on a read.
func (w *memWriter) Report(sources.Event) {}

func (w *memWriter) Keep(ctx context.Context, e sources.Entry) error {
	return fmt.Errorf("keep %s: not possible in a diff", e.Path)
}

// streamReader reads a file front to back through a FileReader.
type streamReader struct {
	ctx context.Context
	r   *FileReader
	off int64
}

// NewStreamReader returns an io.ReadCloser over a stored file's content.
func (s *Store) NewStreamReader(ctx context.Context, f File) io.ReadCloser {
	return &streamReader{ctx: ctx, r: s.OpenFile(f)}
}

func (sr *streamReader) Read(p []byte) (int, error) {
	n, err := sr.r.ReadAt(sr.ctx, p, sr.off)
	sr.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

func (sr *streamReader) Close() error { return sr.r.Close() }
