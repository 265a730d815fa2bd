package fs

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// objDir is a directory above the versions: the mount's root (level 0), a
// cluster (1), a database (2), or a table path prefix (3 and deeper). A
// prefix that is itself a table also holds the version directories,
// latest, @at and @diff.
type objDir struct {
	gofs.Inode
	readOnly
	t       *tree
	level   int
	cluster string // raw names
	db      string
	prefix  string // raw table prefix, meaningful from level 3
}

var (
	_ gofs.NodeLookuper  = (*objDir)(nil)
	_ gofs.NodeReaddirer = (*objDir)(nil)
	_ gofs.NodeGetattrer = (*objDir)(nil)
	_ gofs.NodeStatfser  = (*objDir)(nil)
	_ gofs.InodeEmbedder = (*objDir)(nil)
)

// Special names in a table directory.
const (
	latestName = "latest"
	atName     = "@at"
	diffName   = "@diff"
)

func (d *objDir) ino() uint64 {
	return inodeOf("obj", strconv.Itoa(d.level), d.cluster, d.db, d.prefix)
}

func (d *objDir) ref() index.ObjectRef {
	return index.ObjectRef{Cluster: d.cluster, Database: d.db, Table: d.prefix}
}

// child returns the directory one level down, named by a raw component.
func (d *objDir) child(raw string) *objDir {
	c := &objDir{t: d.t, level: d.level + 1, cluster: d.cluster, db: d.db, prefix: d.prefix}
	switch {
	case d.level == 0:
		c.cluster = raw
	case d.level == 1:
		c.db = raw
	case d.level == 2:
		c.prefix = raw
	default:
		c.prefix = d.prefix + "/" + raw
	}
	return c
}

// childOf returns the raw name of o's component one level below d, or
// ok false if o is not under d. self reports that o is the table d names.
func (d *objDir) childOf(o index.ObjectRef) (child string, self, ok bool) {
	switch {
	case d.level == 0:
		return o.Cluster, false, true
	case o.Cluster != d.cluster:
		return "", false, false
	case d.level == 1:
		return o.Database, false, true
	case o.Database != d.db:
		return "", false, false
	case d.level == 2:
		first, _, _ := strings.Cut(o.Table, "/")
		return first, false, true
	case o.Table == d.prefix:
		return "", true, false
	}
	rest, found := strings.CutPrefix(o.Table, d.prefix+"/")
	if !found {
		return "", false, false
	}
	next, _, _ := strings.Cut(rest, "/")
	return next, false, true
}

// children lists the raw names one level down, sorted and unique, and
// whether d is itself a table.
func (d *objDir) children(ctx context.Context) (names []string, isTable bool, err error) {
	objs, err := d.t.objects(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, o := range objs {
		c, self, ok := d.childOf(o)
		isTable = isTable || self
		if ok {
			names = append(names, c)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), isTable, nil
}

// Getattr shows a plain directory; a table's mtime is its newest
// version's, moved by nanoseconds when the lists change (tree.changed).
func (d *objDir) Getattr(ctx context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fill(ctx, &out.Attr)
	out.SetTimeout(refreshTimeout)
	return 0
}

func (d *objDir) fill(ctx context.Context, a *fuse.Attr) {
	mtime := d.t.started
	_, _ = d.t.objects(ctx) // a failure shows when listed; this notes changes
	if d.level >= 3 {
		if vs, err := d.t.versionsOf(ctx, d.ref()); err == nil && len(vs) > 0 {
			mtime = vs[len(vs)-1].Time
		}
	}
	d.t.owner.fill(a, syscall.S_IFDIR|0o755, dirSize, d.t.changed(mtime))
}

// Statfs reports a read-only filesystem with Linux's name limit.
func (d *objDir) Statfs(_ context.Context, out *fuse.StatfsOut) syscall.Errno {
	out.Bsize, out.Frsize, out.NameLen = 4096, 4096, sources.MaxNameLen
	return 0
}

// Readdir lists the next level and, for a table, its versions and the
// special entries.
func (d *objDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	names, isTable, err := d.children(ctx)
	if err != nil {
		return nil, toErrno(d.t.log, "list "+d.ref().String(), err)
	}
	var list []fuse.DirEntry
	if isTable {
		tl, errno := d.tableEntries(ctx)
		if errno != 0 {
			return nil, errno
		}
		list = tl
	}
	for _, raw := range names {
		list = append(list, fuse.DirEntry{Name: sources.EscapeName(raw), Mode: syscall.S_IFDIR, Ino: d.child(raw).ino()})
	}
	return gofs.NewListDirStream(list), 0
}

// Lookup finds a table-level entry or a directory one level down.
func (d *objDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	names, isTable, err := d.children(ctx)
	if err != nil {
		return nil, toErrno(d.t.log, "list "+d.ref().String(), err)
	}
	if isTable {
		if n, errno, handled := d.lookupTable(ctx, name, out); handled {
			return n, errno
		}
	}
	raw, ok := sources.UnescapeName(name)
	if !ok && sources.IsShortened(name) {
		raw, ok = findShortened(names, name)
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	if _, found := slices.BinarySearch(names, raw); !found {
		return nil, syscall.ENOENT
	}
	c := d.child(raw)
	c.fill(ctx, &out.Attr)
	refreshing(out)
	return d.NewInode(ctx, c, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: c.ino()}), 0
}

// findShortened finds the raw name whose escaped form is the shortened
// name shown.
func findShortened(raws []string, name string) (string, bool) {
	for _, raw := range raws {
		if sources.EscapeName(raw) == name {
			return raw, true
		}
	}
	return "", false
}

// timeNamed parses a version directory name.
func timeNamed(name string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, name)
	return t, err == nil && index.TimeName(t) == name
}
