package fs

import (
	"hash/fnv"
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

// owner is who the mounted tree's entries belong to: the mounting user.
type owner struct{ uid, gid uint32 }

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
		size = int64(len(e.Target))
	}
	o.fill(a, typeBits(e.Type)|e.Mode&0o7777, size, e.ModTime)
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
