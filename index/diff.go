package index

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// virtualTree is a computed version (a @diff): entries by path (for
// row-source diffs with their content in File.content, on the heap or
// mapped from a spill file). err is set when an evicted diff could not be
// computed again: lookups report it.
type virtualTree struct {
	files map[string]File
	err   error
}

func (d *virtualTree) readDir(dir string) []File {
	var out []File
	for p, f := range d.files {
		if pd, _ := format.SplitPath(p); pd == dir && p != "" {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (d *virtualTree) lookup(path string) (File, error) {
	if d.err != nil {
		return File{}, d.err
	}
	if f, ok := d.files[path]; ok {
		return f, nil
	}
	return File{}, fmt.Errorf("%s in diff: %w", path, ErrNotFound)
}

// virtual returns the tree of a @diff version, computing it again when
// the cache evicted it: a mount's diff directory lives longer than the
// cache entry. Callers give no context, so a recomputation runs under
// context.Background; a failure is logged and answers every lookup.
func (s *Store) virtual(v Version) (*virtualTree, bool) {
	if !strings.HasPrefix(v.Name, diffPrefix) {
		return nil, false
	}
	ctx := context.Background()
	res, err := s.diffs.get(ctx, v.Name, func() (diffValue, error) {
		from, to, err := s.diffEnds(ctx, v)
		if err != nil {
			return diffValue{}, err
		}
		return s.computeDiff(ctx, v.Name, from, to)
	})
	if err != nil {
		s.log.Warn("recompute evicted diff", "diff", v.Name, "err", err)
		return &virtualTree{err: err}, true
	}
	return res.tree, true
}

// diffPrefix starts the name of every @diff version.
const diffPrefix = "@diff/"

// diffKey names the diff of (from, to]; it is also the virtual version's
// name.
func diffKey(from *Version, to Version) string {
	fromName := ""
	if from != nil {
		fromName = from.Name
	}
	return diffPrefix + fromName + ".." + to.Name
}

// diffEnds finds the two versions a @diff version's name was made from:
// to among v.Object's versions, from there too or, failing that, among
// all versions. Names are matched whole, so ".." inside one is harmless.
func (s *Store) diffEnds(ctx context.Context, v Version) (*Version, Version, error) {
	rest := strings.TrimPrefix(v.Name, diffPrefix)
	vs, err := s.Versions(ctx, v.Object)
	if err != nil {
		return nil, Version{}, fmt.Errorf("recompute %s: %w", v.Name, err)
	}
	for _, to := range vs {
		fromName, ok := strings.CutSuffix(rest, ".."+to.Name)
		if !ok {
			continue
		}
		if fromName == "" {
			return nil, to, nil
		}
		if from, ok := findVersion(vs, fromName); ok {
			return &from, to, nil
		}
		all, err := s.AllVersions(ctx)
		if err != nil {
			return nil, Version{}, fmt.Errorf("recompute %s: %w", v.Name, err)
		}
		if from, ok := findVersion(all, fromName); ok {
			return &from, to, nil
		}
	}
	return nil, Version{}, fmt.Errorf("recompute %s: its versions are gone (forgotten?): %w", v.Name, ErrNotFound)
}

func findVersion(vs []Version, name string) (Version, bool) {
	for _, v := range vs {
		if v.Name == name {
			return v, true
		}
	}
	return Version{}, false
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
// to. Results are cached, within Options.DiffCacheBytes: the mount asks
// often for the same range. The result's Version reads through ReadDir,
// Lookup and OpenFile, computed again if the cache dropped it meanwhile;
// the result itself holds no tree, so callers that keep it keep little.
func (s *Store) Diff(ctx context.Context, from *Version, to Version) (DiffResult, error) {
	key := diffKey(from, to)
	res, err := s.diffs.get(ctx, key, func() (diffValue, error) { return s.computeDiff(ctx, key, from, to) })
	if err != nil {
		return DiffResult{}, err
	}
	return DiffResult{Version: res.Version, Deleted: res.Deleted}, nil
}

// computeDiff builds the diff named key: a file comparison, or the
// output of the kind's Differ (row sources).
func (s *Store) computeDiff(ctx context.Context, key string, from *Version, to Version) (diffValue, error) {
	a, err := s.entriesOf(ctx, from)
	if err != nil {
		return diffValue{}, fmt.Errorf("diff: list %s: %w", from.Name, err)
	}
	b, err := s.entriesOf(ctx, &to)
	if err != nil {
		return diffValue{}, fmt.Errorf("diff: list %s: %w", to.Name, err)
	}
	res := &DiffResult{Version: to, tree: &virtualTree{files: map[string]File{"": {Entry: format.RootEntry(to)}}}}
	res.Version.Name = key
	differ, ok := s.opts.Differs[to.Kind]
	if !ok || from == nil {
		fileDiff(a, b, res)
		return diffValue{res: res}, nil
	}
	w := s.newDiffWriter(ctx, res.tree)
	if err := differ.Diff(ctx, s.versionReader(*from, a), s.versionReader(to, b), w); err != nil {
		removeSpills(w.spills)
		return diffValue{}, fmt.Errorf("diff %s..%s: %w", TimeName(from.Time), TimeName(to.Time), err)
	}
	return diffValue{res: res, memContent: w.heap, spills: w.spills, disk: w.disk}, nil
}

// fileDiff keeps the entries of b that a lacks or has otherwise, with
// their parent directories, and lists the paths of a that b lacks.
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
		for d, _ := format.SplitPath(p); d != ""; d, _ = format.SplitPath(d) {
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
	return sameOwner(a.Owner, b.Owner) && maps.Equal(a.Attrs, b.Attrs)
}

// sameOwner reports whether two entries have the same recorded owner: a
// chown shows in @diff like a chmod.
func sameOwner(a, b *sources.Owner) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
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

// diffWriter collects a Differ's output: entries in the tree, content on
// the heap while small, else in spill files (contentBuf).
type diffWriter struct {
	ctx    context.Context
	spill  *spillDir
	budget atomic.Int64 // heap content the diff may still take

	mu     sync.Mutex
	tree   *virtualTree
	heap   int64 // heap content held
	spills []string
	disk   int64
}

func (s *Store) newDiffWriter(ctx context.Context, tree *virtualTree) *diffWriter {
	w := &diffWriter{ctx: ctx, spill: s.diffs.spill, tree: tree}
	w.budget.Store(s.diffs.max.mem / memContentShare)
	return w
}

// collect runs fill on a new content buffer and records e with what it
// wrote.
func (w *diffWriter) collect(e sources.Entry, fill func(io.Writer) error) error {
	b := &contentBuf{ctx: w.ctx, spill: w.spill, budget: &w.budget}
	if err := fill(b); err != nil {
		b.abort()
		return err
	}
	c, err := b.finish()
	if err != nil {
		return fmt.Errorf("add %s: %w", e.Path, err)
	}
	e.Type = sources.TypeFile
	f := File{Entry: e}
	f.Size = int64(len(c.data))
	if len(c.data) > 0 {
		f.Content, f.Chunks = c.data, c.carrier
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tree.files[e.Path] = f
	w.heap += c.heap
	if c.path != "" {
		w.spills = append(w.spills, c.path)
		w.disk += f.Size
	}
	return nil
}

// Add records an entry; a file's content is read from r.
func (w *diffWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if e.Type != sources.TypeFile || r == nil {
		if e.Type == sources.TypeFile {
			e.Size = 0
		}
		w.mu.Lock()
		w.tree.files[e.Path] = File{Entry: e}
		w.mu.Unlock()
		return nil
	}
	return w.collect(e, func(dst io.Writer) error {
		if _, err := io.Copy(dst, r); err != nil {
			return fmt.Errorf("add %s: %w", e.Path, err)
		}
		return nil
	})
}

// AddSpans records a file from spans of new data; a diff has no previous
// version whose ranges a span could name.
func (w *diffWriter) AddSpans(ctx context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	return w.collect(e, func(dst io.Writer) error {
		for {
			sp, err := next()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if len(sp.Data) == 0 && sp.Len > 0 {
				return fmt.Errorf("add %s: a diff has no previous version to refer to", e.Path)
			}
			if _, err := dst.Write(sp.Data); err != nil {
				return fmt.Errorf("add %s: %w", e.Path, err)
			}
		}
	})
}

// Report drops a Differ's events: a diff is computed on a read.
func (w *diffWriter) Report(sources.Event) {}

// Keep fails: a diff holds only what changed.
func (w *diffWriter) Keep(ctx context.Context, e sources.Entry) error {
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

// DiffResult is what changed between two versions of an object. Version is
// a virtual version (not on the backend) holding the files added or changed
// with their content at the later version (file sources), or the native
// files of the changed rows (row sources); Deleted lists removed paths
// (file sources) in order.
type DiffResult struct {
	Version Version
	Deleted []string
	tree    *virtualTree
}
