package fs

import (
	"sync/atomic"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// On kernels that support it (FUSE_NO_OPENDIR_SUPPORT in the INIT flags)
// directories are opened without asking the daemon, as files are
// (noopen.go): OPENDIR answers ENOSYS once, and from then on the kernel
// sends neither OPENDIR nor RELEASEDIR, and keeps every listing it read
// (FOPEN_CACHE_DIR is its no-opendir default). A cold `ls -lR` of a
// 5,000-directory tree sent 4 requests per directory (OPENDIR, two
// READDIRPLUS, RELEASEDIR); it now sends 2, and took 15% less time
// (2.35-2.78 s against 2.79-3.17 s, three rounds alternated).
//
// A read then comes without a handle: noOpendir opens one inside the
// daemon for that one request, seeks it to the request's offset and
// releases it. Directory streams are lists that seek by index, so a
// listing read in several requests reads as if from one handle.
//
// Because the kernel now keeps the listings of the directories above the
// versions too, which change as backups land and are pruned, those
// directories show an mtime that changes with any change the daemon
// sees (tree.generation): the kernel compares a cached listing's mtime
// at every read from its start and drops the listing when it differs.
type noOpendir struct {
	fuse.RawFileSystem
	// on is set once the kernel said it can do without OPENDIR; before
	// that, and on kernels that cannot, directories get handles.
	on *atomic.Bool
}

// OpenDir declines, so that the kernel stops asking, when it can.
func (n noOpendir) OpenDir(cancel <-chan struct{}, input *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if n.on.Load() {
		return fuse.ENOSYS
	}
	return n.RawFileSystem.OpenDir(cancel, input, out)
}

// ReadDirPlus serves a handle-less read through a handle of its own.
func (n noOpendir) ReadDirPlus(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return n.withHandle(cancel, input, out, n.RawFileSystem.ReadDirPlus)
}

// ReadDir serves a handle-less read through a handle of its own.
func (n noOpendir) ReadDir(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status {
	return n.withHandle(cancel, input, out, n.RawFileSystem.ReadDir)
}

type readDirFunc func(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList) fuse.Status

// withHandle runs read with the request's handle, or with one opened
// for it and released after when the kernel sent none.
func (n noOpendir) withHandle(cancel <-chan struct{}, input *fuse.ReadIn, out *fuse.DirEntryList, read readDirFunc) fuse.Status {
	if input.Fh != 0 {
		return read(cancel, input, out)
	}
	var opened fuse.OpenOut
	if st := n.RawFileSystem.OpenDir(cancel, &fuse.OpenIn{InHeader: input.InHeader}, &opened); st != fuse.OK {
		return st
	}
	in := *input
	in.Fh = opened.Fh
	st := read(cancel, &in, out)
	n.RawFileSystem.ReleaseDir(&fuse.ReleaseIn{InHeader: input.InHeader, Fh: opened.Fh})
	return st
}
