package fs

import (
	"context"
	"slices"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
)

// tableEntries lists a table's versions, latest, @at and @diff.
func (d *objDir) tableEntries(ctx context.Context) ([]fuse.DirEntry, syscall.Errno) {
	obj := d.ref()
	vs, err := d.t.versionsOf(ctx, obj)
	if err != nil {
		return nil, toErrno(d.t.log, "list versions of "+obj.String(), err)
	}
	list := make([]fuse.DirEntry, 0, len(vs)+3)
	for _, v := range vs {
		list = append(list, fuse.DirEntry{Name: index.TimeName(v.Time), Mode: syscall.S_IFDIR, Ino: versionRoot(d.t, v).ino()})
	}
	if len(vs) > 0 {
		list = append(list, fuse.DirEntry{Name: latestName, Mode: syscall.S_IFLNK, Ino: inodeOf(latestName, obj.Cluster, obj.Database, obj.Table)})
	}
	list = append(list,
		fuse.DirEntry{Name: atName, Mode: syscall.S_IFDIR, Ino: inodeOf(atName, obj.Cluster, obj.Database, obj.Table)},
		fuse.DirEntry{Name: diffName, Mode: syscall.S_IFDIR, Ino: inodeOf(diffName, obj.Cluster, obj.Database, obj.Table)})
	return list, 0
}

// lookupTable answers the names only a table directory has. handled is
// false when name is none of them, so that Lookup tries deeper tables.
func (d *objDir) lookupTable(ctx context.Context, name string, out *fuse.EntryOut) (n *gofs.Inode, errno syscall.Errno, handled bool) {
	obj := d.ref()
	switch name {
	case latestName:
		l := &timeLink{t: d.t, obj: obj, ino: inodeOf(latestName, obj.Cluster, obj.Database, obj.Table), at: farFuture}
		n, errno = l.lookedUp(ctx, &d.Inode, out)
		return n, errno, true
	case atName:
		a := &atDir{t: d.t, obj: obj}
		a.fill(&out.Attr)
		refreshing(out)
		return d.NewInode(ctx, a, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inodeOf(atName, obj.Cluster, obj.Database, obj.Table)}), 0, true
	case diffName:
		dd := &diffDir{t: d.t, obj: obj}
		dd.t.owner.fill(&out.Attr, syscall.S_IFDIR|0o555, dirSize, d.t.started)
		refreshing(out)
		return d.NewInode(ctx, dd, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: inodeOf(diffName, obj.Cluster, obj.Database, obj.Table)}), 0, true
	}
	when, ok := timeNamed(name)
	if !ok {
		return nil, 0, false
	}
	vs, err := d.t.versionsOf(ctx, obj)
	if err != nil {
		return nil, toErrno(d.t.log, "list versions of "+obj.String(), err), true
	}
	i, found := slices.BinarySearchFunc(vs, when, func(v index.Version, t time.Time) int { return v.Time.Compare(t) })
	if !found {
		return nil, 0, false
	}
	root := versionRoot(d.t, vs[i])
	root.fill(&out.Attr)
	immutable(out)
	return d.NewInode(ctx, root, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: root.ino()}), 0, true
}

// farFuture resolves to the newest version.
var farFuture = time.Unix(1<<62, 0)
