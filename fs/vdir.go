package fs

import (
	"context"
	"strings"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// vdir is a directory inside a version (or a diff's tree). Its listing is
// fetched once and kept: versions never change.
type vdir struct {
	gofs.Inode
	readOnly
	t *tree
	// key names the version tree; inode numbers hash it with the path.
	key   string
	v     index.Version
	path  string // raw path, "" for the root
	entry sources.Entry
	// deleted is the ".deleted" list of a diff's root, nil elsewhere.
	deleted []byte

	mu      sync.Mutex
	loaded  bool
	list    []index.File
	dirents []fuse.DirEntry
	byName  map[string]int // escaped name → index in list
	ahead   int            // list entries before this were queued for prefetch
}

var (
	_ gofs.NodeLookuper       = (*vdir)(nil)
	_ gofs.NodeOpendirHandler = (*vdir)(nil)
	_ gofs.NodeGetattrer      = (*vdir)(nil)
)

// deletedName is the file listing a diff's removed paths.
const deletedName = ".deleted"

// versionRoot returns the root directory node of version v.
func versionRoot(t *tree, v index.Version) *vdir {
	o := v.Object
	key := "v\x00" + o.Cluster + "\x00" + o.Database + "\x00" + o.Table + "\x00" + index.TimeName(v.Time) + "\x00" + v.Name
	return &vdir{t: t, key: key, v: v, entry: index.RootEntry(v)}
}

func (d *vdir) ino() uint64 { return inodeOf(d.key, d.path) }

func (d *vdir) fill(a *fuse.Attr) { d.t.owner.fillEntry(a, d.entry) }

// Getattr shows the directory's recorded metadata.
func (d *vdir) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fill(&out.Attr)
	out.SetTimeout(immutableTimeout)
	return 0
}

// load fetches and keeps the listing.
func (d *vdir) load(ctx context.Context) syscall.Errno {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded {
		return 0
	}
	files, err := d.t.cat.ReadDir(ctx, d.v, d.path)
	if err != nil {
		return toErrno(d.t.log, "list "+d.where(), err)
	}
	d.list = files
	d.byName = make(map[string]int, len(files))
	d.dirents = make([]fuse.DirEntry, 0, len(files)+1)
	for i, f := range files {
		name := sources.EscapeName(baseName(f.Path))
		d.byName[name] = i
		d.dirents = append(d.dirents, fuse.DirEntry{Name: name, Mode: typeBits(f.Type), Ino: entryIno(d.key, f.Entry)})
	}
	if d.deleted != nil {
		d.dirents = append(d.dirents, fuse.DirEntry{Name: deletedName, Mode: syscall.S_IFREG, Ino: inodeOf(d.key, "", deletedName)})
	}
	d.loaded = true
	return 0
}

// cached returns the listed entry shown as name; loaded is false when the
// listing has not been fetched.
func (d *vdir) cached(name string) (f index.File, i int, ok, loaded bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded {
		return f, -1, false, false
	}
	i, ok = d.byName[name]
	if ok {
		f = d.list[i]
	}
	return f, i, ok, true
}

// OpendirHandle lists the directory; the kernel may keep the listing.
func (d *vdir) OpendirHandle(ctx context.Context, _ uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if errno := d.load(ctx); errno != 0 {
		return nil, 0, errno
	}
	return gofs.NewListDirStream(d.dirents), fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

// Lookup finds a child from the kept listing if there is one, else by
// unescaping the name and asking the catalog for that one path.
func (d *vdir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.deleted != nil && name == deletedName {
		return d.deletedFile(ctx, out), 0
	}
	f, i, ok, loaded := d.cached(name)
	if !loaded {
		raw, unescaped := sources.UnescapeName(name)
		switch {
		case unescaped:
			return d.lookupPath(ctx, joinPath(d.path, raw), out)
		case !sources.IsShortened(name):
			return nil, missing(out)
		}
		if errno := d.load(ctx); errno != 0 {
			return nil, errno
		}
		f, i, ok, _ = d.cached(name)
	}
	if !ok {
		return nil, missing(out)
	}
	return d.newChild(ctx, f, i, out), 0
}

// lookupPath asks the catalog for one path.
func (d *vdir) lookupPath(ctx context.Context, p string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	f, err := d.t.cat.Lookup(ctx, d.v, p)
	if isNotFound(err) {
		return nil, missing(out)
	}
	if err != nil {
		return nil, toErrno(d.t.log, "look up "+d.where()+"/"+sources.EscapePath(p), err)
	}
	return d.newChild(ctx, f, -1, out), 0
}

// newChild makes the node of a version entry; idx is its place in the
// listing, -1 when it was looked up alone.
func (d *vdir) newChild(ctx context.Context, f index.File, idx int, out *fuse.EntryOut) *gofs.Inode {
	var node gofs.InodeEmbedder
	switch f.Type {
	case sources.TypeDir:
		node = &vdir{t: d.t, key: d.key, v: d.v, path: f.Path, entry: f.Entry}
	case sources.TypeSymlink:
		node = &linkNode{t: d.t, entry: f.Entry}
	default:
		node = &fileNode{t: d.t, f: f, dir: d, idx: idx}
	}
	d.t.owner.fillEntry(&out.Attr, f.Entry)
	immutable(out)
	in := d.NewInode(ctx, node, gofs.StableAttr{Mode: typeBits(f.Type), Ino: entryIno(d.key, f.Entry)})
	if sub, ok := in.Operations().(*vdir); ok && idx >= 0 && !sub.isLoaded() {
		d.t.lists.add(d, sub) // shown in a listing: the tool may open it next
	}
	return in
}

// isLoaded reports whether the listing has been fetched.
func (d *vdir) isLoaded() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.loaded
}

// where names the directory in messages.
func (d *vdir) where() string {
	s := d.v.Object.String() + "@" + index.TimeName(d.v.Time)
	if d.path != "" {
		s += "/" + sources.EscapePath(d.path)
	}
	return s
}

// missing answers a miss inside a version: the kernel may remember it for
// as long as the version's entries (see negativeEntries).
func missing(out *fuse.EntryOut) syscall.Errno {
	out.SetEntryTimeout(immutableTimeout)
	return syscall.ENOENT
}

func joinPath(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func baseName(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }
