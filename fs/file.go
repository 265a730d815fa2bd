package fs

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// fileNode is a regular file of a version.
type fileNode struct {
	gofs.Inode
	readOnly
	t *tree
	f index.File
	// dir and idx place the file in its directory's listing, for
	// prefetching the files after it (and naming it in messages); idx is
	// -1 when unknown.
	dir *vdir
	idx int
}

var (
	_ gofs.NodeOpener      = (*fileNode)(nil)
	_ gofs.NodeGetattrer   = (*fileNode)(nil)
	_ gofs.NodeFlusher     = (*fileNode)(nil)
	_ gofs.NodeReader      = (*fileNode)(nil)
	_ gofs.NodeOnForgetter = (*fileNode)(nil)
)

// Flush answers ENOSYS, which tells the kernel that this filesystem has no
// use for flushes: it stops sending them, and a close(2) of a file on the
// mount no longer waits for a round trip (one of the four that a small
// file's open, read and close cost).
func (n *fileNode) Flush(context.Context, gofs.FileHandle) syscall.Errno {
	return syscall.ENOSYS
}

// Getattr shows the recorded size, mode and time.
func (n *fileNode) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.t.owner.fillEntry(&out.Attr, n.f.Entry)
	out.SetTimeout(immutableTimeout)
	return 0
}

// Open refuses writes. Where the kernel can open files by itself it
// answers ENOSYS, which makes the kernel stop sending opens (noopen.go);
// otherwise it opens one catalog reader per handle. The page cache
// survives reopening either way: the content never changes.
func (n *fileNode) Open(_ context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if openFlagsWrite(flags) {
		return nil, 0, syscall.EROFS
	}
	if n.t.noOpen.Load() {
		return nil, 0, syscall.ENOSYS
	}
	h := &fileHandle{r: n.t.cat.OpenFile(n.f), node: n}
	return h, fuse.FOPEN_KEEP_CACHE, 0
}

// Read reads at off through the handle's reader, or without a handle
// (no-open kernels) through the node's; a read past the end returns what
// there is. go-fuse asks the node first, so every read comes here.
func (n *fileNode) Read(ctx context.Context, fh gofs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var k int
	var err error
	if off == 0 {
		n.t.prefetchAfter(n.dir, n.idx)
	}
	n.t.mayBlock() // the data may have to come from the store
	if h, ok := fh.(*fileHandle); ok {
		k, err = h.readAt(ctx, dest, off)
	} else {
		k, err = n.t.readers.readAt(ctx, n, dest, off)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, toErrno(n.t.log, "read "+n.name(), err)
	}
	return fuse.ReadResultData(dest[:k]), 0
}

// OnForget closes the node's reader when the kernel forgets the file.
func (n *fileNode) OnForget() { n.t.readers.drop(n) }

// name is the file's place, for messages: built only when one is
// written (a listing makes a node for each of its files).
func (n *fileNode) name() string {
	if n.dir == nil {
		return sources.EscapePath(n.f.Path)
	}
	return n.dir.where() + "/" + sources.EscapeName(baseName(n.f.Path))
}

// fileHandle is one open file. Reads on a handle are serialised because
// FileReader does not promise concurrent ReadAt; the reader reads ahead
// itself.
type fileHandle struct {
	mu   sync.Mutex
	r    FileReader
	node *fileNode
}

var _ gofs.FileReleaser = (*fileHandle)(nil)

// readAt reads through the handle's reader.
func (h *fileHandle) readAt(ctx context.Context, dest []byte, off int64) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.r.ReadAt(ctx, dest, off)
}

// Release closes the reader.
func (h *fileHandle) Release(context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.r.Close(); err != nil {
		h.node.t.log.Debug("mount: close reader", "file", h.name(), "err", err)
	}
	return 0
}

func (h *fileHandle) name() string { return h.node.name() }

// linkNode is a symlink of a version; the target is shown escaped as
// names are (sources.EscapeLinkTarget), so that it resolves on the mount
// whenever it resolved in the source.
type linkNode struct {
	gofs.Inode
	readOnly
	t     *tree
	entry sources.Entry
}

var (
	_ gofs.NodeReadlinker = (*linkNode)(nil)
	_ gofs.NodeGetattrer  = (*linkNode)(nil)
)

// Readlink returns the recorded target, escaped.
func (l *linkNode) Readlink(context.Context) ([]byte, syscall.Errno) {
	return []byte(sources.EscapeLinkTarget(l.entry.Target)), 0
}

// Getattr shows the recorded metadata.
func (l *linkNode) Getattr(_ context.Context, _ gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	l.t.owner.fillEntry(&out.Attr, l.entry)
	out.SetTimeout(immutableTimeout)
	return 0
}
