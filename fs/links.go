package fs

import (
	"context"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
)

// timeLink is a symlink to the newest version at or before a time:
// "latest" (at is far in the future) or an @at entry (up, so the target
// starts with "../"). The target is resolved again on every Lookup,
// Readlink and Getattr, because new versions keep arriving. Its inode
// number includes the target, so the kernel may cache the link's content
// (EnableSymlinkCaching): when latest moves on, the next Lookup (after the
// 1 s entry timeout) returns a new inode and the old cached target is never
// used. Without that, `ls -lR latest/` paid a Readlink for every path.
type timeLink struct {
	gofs.Inode
	readOnly
	t   *tree
	obj index.ObjectRef
	ino uint64
	at  time.Time
	up  bool
}

var (
	_ gofs.NodeReadlinker = (*timeLink)(nil)
	_ gofs.NodeGetattrer  = (*timeLink)(nil)
)

// target returns the link's target and the version it names.
func (l *timeLink) target(ctx context.Context) (string, index.Version, syscall.Errno) {
	vs, err := l.t.versionsOf(ctx, l.obj)
	if err != nil {
		return "", index.Version{}, toErrno(l.t.log, "list versions of "+l.obj.String(), err)
	}
	v, ok := index.At(vs, l.at)
	if !ok {
		return "", v, syscall.ENOENT
	}
	name := index.TimeName(v.Time)
	if l.up {
		name = "../" + name
	}
	return name, v, 0
}

// lookedUp answers a Lookup of the link in parent.
func (l *timeLink) lookedUp(ctx context.Context, parent *gofs.Inode, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	target, v, errno := l.target(ctx)
	if errno != 0 {
		return nil, errno
	}
	l.t.owner.fill(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), v.Time)
	refreshing(out)
	return parent.NewInode(ctx, l, gofs.StableAttr{Mode: syscall.S_IFLNK, Ino: l.ino ^ inodeOf(target)}), 0
}

// Readlink returns the current target.
func (l *timeLink) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	target, _, errno := l.target(ctx)
	return []byte(target), errno
}

// Getattr shows the current target's length and version time.
func (l *timeLink) Getattr(ctx context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	target, v, errno := l.target(ctx)
	if errno != 0 {
		return errno
	}
	l.t.owner.fill(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), v.Time)
	out.SetTimeout(refreshTimeout)
	return 0
}

// atDir is a table's @at directory: Lookup of a time gives a link to the
// version current at that time. It lists nothing.
type atDir struct {
	gofs.Inode
	readOnly
	t   *tree
	obj index.ObjectRef
}

var (
	_ gofs.NodeLookuper  = (*atDir)(nil)
	_ gofs.NodeReaddirer = (*atDir)(nil)
	_ gofs.NodeGetattrer = (*atDir)(nil)
)

func (a *atDir) fill(attr *fuse.Attr) {
	a.t.owner.fill(attr, syscall.S_IFDIR|0o555, dirSize, a.t.started)
}

// Getattr shows a read-only directory.
func (a *atDir) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	a.fill(&out.Attr)
	out.SetTimeout(refreshTimeout)
	return 0
}

// Readdir lists nothing: every time is a valid name.
func (a *atDir) Readdir(context.Context) (gofs.DirStream, syscall.Errno) {
	return gofs.NewListDirStream(nil), 0
}

// Lookup resolves a time to a link to its version.
func (a *atDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	at, err := index.ParseTime(name)
	if err != nil {
		return nil, syscall.ENOENT
	}
	l := &timeLink{t: a.t, obj: a.obj, at: at, up: true,
		ino: inodeOf(atName, a.obj.Cluster, a.obj.Database, a.obj.Table, name)}
	return l.lookedUp(ctx, &a.Inode, out)
}
