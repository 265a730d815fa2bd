package fs

import (
	"hash/fnv"
	"math"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/sources"
)

// Kernel cache lifetimes. Inside a version nothing ever changes; the
// levels above must show new versions soon.
const (
	immutableTimeout = time.Hour
	refreshTimeout   = time.Second
)

// dirSize is the st_size shown for directories, as ext4 shows it.
const dirSize = 4096

// inodeOf returns a stable inode number for the node named by parts: a
// 64-bit FNV-1a hash, kept away from the numbers FUSE reserves (0, the
// root's 1, and ^0).
// entryIno is the inode number of a version entry (key names the
// version): one per path, except that the names of a hard-linked file
// share one, so that go-fuse hands out one node for all of them and
// `rsync -H`, `cp -a` and `find -samefile` see one file.
func entryIno(key string, e sources.Entry) uint64 {
	if e.HardLink != 0 {
		return inodeOf(key, "", "hardlink", strconv.FormatUint(e.HardLink, 16))
	}
	return inodeOf(key, e.Path)
}

func inodeOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	ino := h.Sum64()
	if ino <= 1 || ino == ^uint64(0) {
		ino = 2
	}
	return ino
}

// typeBits returns the S_IFMT bits of an entry type.
func typeBits(t sources.EntryType) uint32 {
	switch t {
	case sources.TypeDir:
		return syscall.S_IFDIR
	case sources.TypeSymlink:
		return syscall.S_IFLNK
	}
	return syscall.S_IFREG
}

// owner is who the mounted tree's entries belong to when they record no
// owner of their own: the mounting user. It owns the levels above the
// versions, and entries whose source has no owners (a MongoDB dump).
// Recorded owners are shown only when recorded is set (the mount runs as
// root): a user's own mount (without --allow-other) has no
// default_permissions (mountOptions), and showing it other people's
// owners would have the kernel refuse it their 0700 directories once
// it had.
type owner struct {
	uid, gid uint32
	recorded bool
}

// fill sets the attributes common to every node.
func (o owner) fill(a *fuse.Attr, mode uint32, size int64, mtime time.Time) {
	a.Mode = mode
	a.Size = uint64(size)
	a.Nlink = 1
	a.Uid, a.Gid = o.uid, o.gid
	if !mtime.IsZero() {
		a.SetTimes(&mtime, &mtime, &mtime)
	}
}

// fillEntry sets the attributes of a version entry from its metadata.
func (o owner) fillEntry(a *fuse.Attr, e sources.Entry) {
	size := e.Size
	switch e.Type {
	case sources.TypeDir:
		size = dirSize
	case sources.TypeSymlink:
		size = int64(len(sources.EscapeLinkTarget(e.Target)))
	}
	o.fill(a, typeBits(e.Type)|e.Mode&0o7777, size, e.ModTime)
	a.Uid, a.Gid = o.ids(e.Owner)
	if e.HardLink != 0 && e.Nlink > 1 {
		a.Nlink = e.Nlink
	}
}

// ids returns the uid and gid to show for an entry owned by eo, so that
// `ls -l`, `find -user` and `rsync -a` as root see the recorded owner: the
// recorded id where there is one (the mount shows what the source had, as
// tar -tv --numeric-owner does; a name may map to another id here), else
// the recorded name's id on this machine, else the mounting user's.
func (o owner) ids(eo *sources.Owner) (uid, gid uint32) {
	uid, gid = o.uid, o.gid
	if eo == nil || !o.recorded {
		return uid, gid
	}
	if id, ok := shownID(eo.UID, eo.User, userIDs); ok {
		uid = id
	}
	if id, ok := shownID(eo.GID, eo.Group, groupIDs); ok {
		gid = id
	}
	return uid, gid
}

// shownID is recorded if it is a valid id, else name's id here.
func shownID(recorded int64, name string, ids *nameIDs) (uint32, bool) {
	if recorded >= 0 && recorded <= math.MaxUint32 {
		return uint32(recorded), true
	}
	if name == "" {
		return 0, false
	}
	return ids.id(name)
}

// nameIDs caches name-to-id lookups of this machine's accounts, misses
// included: a directory listing asks for every entry's attributes, and
// a lookup through NSS (files, LDAP) costs milliseconds. Entries of a
// version never change, and accounts rarely do, so nothing expires.
type nameIDs struct {
	lookup func(name string) (string, error)
	mu     sync.Mutex
	m      map[string]nameID
}

type nameID struct {
	id uint32
	ok bool
}

var (
	userIDs = &nameIDs{lookup: func(name string) (string, error) {
		u, err := user.Lookup(name)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	}}
	groupIDs = &nameIDs{lookup: func(name string) (string, error) {
		g, err := user.LookupGroup(name)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	}}
)

// id returns name's id on this machine, false if it has none. The lock is
// held during a lookup: a mount resolves only sources without ids (HDFS)
// this way, whose few owner names are then cached.
func (c *nameIDs) id(name string) (uint32, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.m[name]; ok {
		return r.id, r.ok
	}
	var r nameID
	if s, err := c.lookup(name); err == nil {
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			r = nameID{id: uint32(n), ok: true}
		}
	}
	if c.m == nil {
		c.m = map[string]nameID{}
	}
	c.m[name] = r
	return r.id, r.ok
}

// immutable sets the kernel cache lifetimes of an entry inside a version.
func immutable(out *fuse.EntryOut) {
	out.SetEntryTimeout(immutableTimeout)
	out.SetAttrTimeout(immutableTimeout)
}

// refreshing sets the short lifetimes of an entry above the versions.
func refreshing(out *fuse.EntryOut) {
	out.SetEntryTimeout(refreshTimeout)
	out.SetAttrTimeout(refreshTimeout)
}
