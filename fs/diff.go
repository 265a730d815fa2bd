package fs

import (
	"context"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// diffDir is a table's @diff directory: Lookup of "<t1>..<t2>" gives the
// tree of what changed in (t1, t2]. It lists nothing.
type diffDir struct {
	gofs.Inode
	readOnly
	t   *tree
	obj index.ObjectRef
}

var (
	_ gofs.NodeLookuper  = (*diffDir)(nil)
	_ gofs.NodeReaddirer = (*diffDir)(nil)
	_ gofs.NodeGetattrer = (*diffDir)(nil)
)

// Getattr shows a read-only directory.
func (d *diffDir) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.t.owner.fill(&out.Attr, syscall.S_IFDIR|0o555, dirSize, d.t.started)
	out.SetTimeout(refreshTimeout)
	return 0
}

// Readdir lists nothing: every pair of times is a valid name.
func (d *diffDir) Readdir(context.Context) (gofs.DirStream, syscall.Errno) {
	return gofs.NewListDirStream(nil), 0
}

// Lookup resolves both times like @at (t1 before the first version means
// from nothing) and shows the catalog's diff between them.
func (d *diffDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	from, to, errno := d.resolveRange(ctx, name)
	if errno != 0 {
		return nil, errno
	}
	key := "diff\x00" + d.obj.String() + "\x00" + index.TimeName(to.Time) + "\x00" + to.Name
	if from != nil {
		key += "\x00" + index.TimeName(from.Time) + "\x00" + from.Name
	}
	d.t.mayBlock()
	res, err := d.t.cat.Diff(ctx, from, to) // the store caches diffs, within one bound
	if err != nil {
		return nil, toErrno(d.t.log, "diff "+d.obj.String()+" "+name, err)
	}
	root := &vdir{t: d.t, key: key, v: res.Version, deleted: deletedList(res.Deleted),
		entry: sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: to.Time}}
	root.fill(&out.Attr)
	refreshing(out)
	return d.NewInode(ctx, root, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: root.ino()}), 0
}

// resolveRange parses "<t1>..<t2>" into the versions it names; either end
// may also be "latest", as in the CLI.
func (d *diffDir) resolveRange(ctx context.Context, name string) (*index.Version, index.Version, syscall.Errno) {
	s1, s2, ok := strings.Cut(name, "..")
	if !ok {
		return nil, index.Version{}, syscall.ENOENT
	}
	t1, err1 := parseBound(s1)
	t2, err2 := parseBound(s2)
	if err1 != nil || err2 != nil || t1.After(t2) {
		return nil, index.Version{}, syscall.ENOENT
	}
	vs, err := d.t.versionsOf(ctx, d.obj)
	if err != nil {
		return nil, index.Version{}, toErrno(d.t.log, "list versions of "+d.obj.String(), err)
	}
	to, ok := index.At(vs, t2)
	if !ok {
		return nil, to, syscall.ENOENT
	}
	from, ok := index.At(vs, t1)
	if !ok {
		return nil, to, 0
	}
	return &from, to, 0
}

// deletedList renders ".deleted": one raw path per line, except paths
// holding a newline, which are escaped with sources.EscapePath. It is
// never nil, so that a diff root is told apart from other directories.
func deletedList(paths []string) []byte {
	b := []byte{}
	for _, p := range paths {
		if strings.ContainsRune(p, '\n') {
			p = sources.EscapePath(p)
		}
		b = append(b, p...)
		b = append(b, '\n')
	}
	return b
}

// deletedFile returns the node of a diff root's ".deleted".
func (d *vdir) deletedFile(ctx context.Context, out *fuse.EntryOut) *gofs.Inode {
	n := &bytesFile{t: d.t, data: d.deleted, mtime: d.entry.ModTime}
	n.fill(&out.Attr)
	immutable(out)
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: inodeOf(d.key, "", deletedName)})
}

// bytesFile is a small read-only file held in memory.
type bytesFile struct {
	gofs.Inode
	readOnly
	t     *tree
	data  []byte
	mtime time.Time
}

var (
	_ gofs.NodeOpener    = (*bytesFile)(nil)
	_ gofs.NodeReader    = (*bytesFile)(nil)
	_ gofs.NodeGetattrer = (*bytesFile)(nil)
)

func (n *bytesFile) fill(a *fuse.Attr) {
	n.t.owner.fill(a, syscall.S_IFREG|0o444, int64(len(n.data)), n.mtime)
}

// Getattr shows the content's length.
func (n *bytesFile) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fill(&out.Attr)
	out.SetTimeout(immutableTimeout)
	return 0
}

// Open refuses writes.
func (n *bytesFile) Open(_ context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if openFlagsWrite(flags) {
		return nil, 0, syscall.EROFS
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

// Read copies from the content.
func (n *bytesFile) Read(_ context.Context, _ gofs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(n.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(dest)), int64(len(n.data)))
	return fuse.ReadResultData(n.data[off:end]), 0
}

// parseBound reads one end of a @diff range.
func parseBound(s string) (time.Time, error) {
	if s == latestName {
		return farFuture, nil
	}
	return index.ParseTime(s)
}
