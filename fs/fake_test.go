package fs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
	"github.com/zeebo/blake3"
)

// fakeCatalog is an in-memory Catalog: versions of objects, each a map of
// path to entry, contents addressed by their hash.
type fakeCatalog struct {
	mu       sync.Mutex
	versions map[index.ObjectRef][]index.Version
	files    map[string]map[string]index.File // version name → path → entry
	data     map[index.ID][]byte
}

var _ Catalog = (*fakeCatalog)(nil)

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{
		versions: map[index.ObjectRef][]index.Version{},
		files:    map[string]map[string]index.File{},
		data:     map[index.ID][]byte{},
	}
}

// fakeFile describes one entry to add; type is a file unless dir or
// target is set.
type fakeFile struct {
	path   string
	data   string
	mode   uint32
	mtime  time.Time
	dir    bool
	target string
}

// add stores a version of obj at the given time with files (parents are
// made up, mode 0755) and returns it.
func (c *fakeCatalog) add(obj index.ObjectRef, at string, files ...fakeFile) index.Version {
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	v := index.Version{Object: obj, Time: t, Kind: "posix",
		Name: "versions/" + obj.String() + "/" + at}
	tree := map[string]index.File{}
	for _, f := range files {
		c.addFile(tree, f)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.files[v.Name] = tree
	vs := append(c.versions[obj], v)
	slices.SortFunc(vs, func(a, b index.Version) int { return a.Time.Compare(b.Time) })
	c.versions[obj] = vs
	return v
}

// defaultMtime is the modification time of entries that give none.
var defaultMtime = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func (c *fakeCatalog) addFile(tree map[string]index.File, f fakeFile) {
	mtime := f.mtime
	if mtime.IsZero() {
		mtime = defaultMtime
	}
	e := sources.Entry{Path: f.path, Type: sources.TypeFile, Mode: f.mode, ModTime: mtime}
	if e.Mode == 0 {
		e.Mode = 0o644
	}
	var chunks []index.ChunkRef
	switch {
	case f.dir:
		e.Type = sources.TypeDir
	case f.target != "":
		e.Type, e.Target = sources.TypeSymlink, f.target
	default:
		e.Size = int64(len(f.data))
		id := index.ID(blake3.Sum256([]byte(f.data)))
		c.mu.Lock()
		c.data[id] = []byte(f.data)
		c.mu.Unlock()
		chunks = []index.ChunkRef{{ID: id, Size: uint32(len(f.data))}}
	}
	tree[f.path] = index.File{Entry: e, Chunks: chunks}
	for p := parentOf(f.path); p != ""; p = parentOf(p) {
		if _, ok := tree[p]; !ok {
			tree[p] = index.File{Entry: sources.Entry{Path: p, Type: sources.TypeDir, Mode: 0o755, ModTime: mtime}}
		}
	}
}

func parentOf(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

func (c *fakeCatalog) Objects(context.Context) ([]index.ObjectRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var objs []index.ObjectRef
	for o := range c.versions {
		objs = append(objs, o)
	}
	slices.SortFunc(objs, func(a, b index.ObjectRef) int { return strings.Compare(a.String(), b.String()) })
	return objs, nil
}

func (c *fakeCatalog) Versions(_ context.Context, obj index.ObjectRef) ([]index.Version, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	vs, ok := c.versions[obj]
	if !ok {
		return nil, fmt.Errorf("object %s: %w", obj, index.ErrNotFound)
	}
	return slices.Clone(vs), nil
}

func (c *fakeCatalog) tree(v index.Version) (map[string]index.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	tree, ok := c.files[v.Name]
	if !ok {
		return nil, fmt.Errorf("version %s: %w", v.Name, index.ErrNotFound)
	}
	return tree, nil
}

func (c *fakeCatalog) ReadDir(_ context.Context, v index.Version, dir string) ([]index.File, error) {
	tree, err := c.tree(v)
	if err != nil {
		return nil, err
	}
	if d, ok := tree[dir]; dir != "" && (!ok || d.Type != sources.TypeDir) {
		return nil, fmt.Errorf("dir %q: %w", dir, index.ErrNotFound)
	}
	var out []index.File
	for p, f := range tree {
		if parentOf(p) == dir {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b index.File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (c *fakeCatalog) Lookup(_ context.Context, v index.Version, p string) (index.File, error) {
	tree, err := c.tree(v)
	if err != nil {
		return index.File{}, err
	}
	if p == "" {
		return index.File{Entry: sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: v.Time}}, nil
	}
	f, ok := tree[p]
	if !ok {
		return f, fmt.Errorf("path %q: %w", p, index.ErrNotFound)
	}
	return f, nil
}

func (c *fakeCatalog) OpenFile(f index.File) FileReader {
	c.mu.Lock()
	defer c.mu.Unlock()
	var data []byte
	if len(f.Chunks) > 0 {
		data = c.data[f.Chunks[0].ID]
	}
	return &fakeReader{r: bytes.NewReader(data)}
}

type fakeReader struct{ r *bytes.Reader }

func (r *fakeReader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.ReadAt(p, off)
}

func (r *fakeReader) Close() error { return nil }

var _ io.Closer = (*fakeReader)(nil)

// Diff keeps the files and symlinks of to that from lacks or has
// differently, and lists from's paths that to lacks.
func (c *fakeCatalog) Diff(_ context.Context, from *index.Version, to index.Version) (index.DiffResult, error) {
	toTree, err := c.tree(to)
	if err != nil {
		return index.DiffResult{}, err
	}
	fromTree := map[string]index.File{}
	name := "diff:.." + to.Name
	if from != nil {
		if fromTree, err = c.tree(*from); err != nil {
			return index.DiffResult{}, err
		}
		name = "diff:" + from.Name + ".." + to.Name
	}
	out := map[string]index.File{}
	for p, f := range toTree {
		old, ok := fromTree[p]
		if f.Type == sources.TypeDir || (ok && sameFile(old, f)) {
			continue
		}
		out[p] = f
		for d := parentOf(p); d != ""; d = parentOf(d) {
			out[d] = toTree[d]
		}
	}
	var deleted []string
	for p := range fromTree {
		if _, ok := toTree[p]; !ok {
			deleted = append(deleted, p)
		}
	}
	slices.Sort(deleted)
	v := index.Version{Object: to.Object, Time: to.Time, Kind: to.Kind, Name: name}
	c.mu.Lock()
	c.files[name] = out
	c.mu.Unlock()
	return index.DiffResult{Version: v, Deleted: deleted}, nil
}

func sameFile(a, b index.File) bool {
	return a.Type == b.Type && a.Size == b.Size && a.Mode == b.Mode && a.ModTime.Equal(b.ModTime) &&
		a.Target == b.Target && slices.Equal(a.Chunks, b.Chunks)
}

// prune removes obj's version at the given time, and obj with its last.
func (c *fakeCatalog) prune(obj index.ObjectRef, at string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.versions[obj] = slices.DeleteFunc(c.versions[obj], func(v index.Version) bool { return index.TimeName(v.Time) == at })
	if len(c.versions[obj]) == 0 {
		delete(c.versions, obj)
	}
}
