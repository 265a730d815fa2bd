package fs

import (
	"container/list"
	"context"
	"sync"
)

// On kernels that support it (FUSE_NO_OPEN_SUPPORT in the INIT flags)
// files of this mount are opened without asking the daemon: its Open
// answers ENOSYS once, and from then on the kernel sends no OPEN, with the
// page cache kept (FOPEN_KEEP_CACHE is the kernel's no-open default). A
// `tar` of a directory of small files went from 4.7 to 2.7 FUSE requests
// per file (strace of the daemon). Reads come without a handle,
// so a file's reader (which reads ahead) belongs to its node while it is
// among the most recently read; readers beyond that are closed.

// maxNodeReaders bounds the readers kept open for handle-less reads.
const maxNodeReaders = 64

// nodeReaders are the open readers of recently read files, newest first.
type nodeReaders struct {
	mu  sync.Mutex
	m   map[*fileNode]*list.Element // of *nodeReader
	lru *list.List
}

// nodeReader is one file's reader; its reads are serialised, as a
// handle's are (FileReader does not promise concurrent ReadAt).
type nodeReader struct {
	node   *fileNode
	mu     sync.Mutex
	r      FileReader
	closed bool
}

func newNodeReaders() *nodeReaders {
	return &nodeReaders{m: map[*fileNode]*list.Element{}, lru: list.New()}
}

// readAt reads n's content at off through its node reader.
func (rs *nodeReaders) readAt(ctx context.Context, n *fileNode, dest []byte, off int64) (int, error) {
	for {
		nr := rs.get(n)
		nr.mu.Lock()
		if nr.closed { // evicted between get and now: take a fresh one
			nr.mu.Unlock()
			continue
		}
		k, err := nr.r.ReadAt(ctx, dest, off)
		nr.mu.Unlock()
		return k, err
	}
}

// get returns n's reader, opening it if needed and closing the least
// recently used one beyond maxNodeReaders.
func (rs *nodeReaders) get(n *fileNode) *nodeReader {
	rs.mu.Lock()
	if e, ok := rs.m[n]; ok {
		rs.lru.MoveToFront(e)
		rs.mu.Unlock()
		return e.Value.(*nodeReader)
	}
	nr := &nodeReader{node: n, r: n.t.cat.OpenFile(n.f)}
	rs.m[n] = rs.lru.PushFront(nr)
	var old *nodeReader
	if rs.lru.Len() > maxNodeReaders {
		e := rs.lru.Back()
		old = e.Value.(*nodeReader)
		rs.lru.Remove(e)
		delete(rs.m, old.node)
	}
	rs.mu.Unlock()
	if old != nil {
		old.close()
	}
	return nr
}

// drop closes n's reader, if open (the kernel forgot n).
func (rs *nodeReaders) drop(n *fileNode) {
	rs.mu.Lock()
	e, ok := rs.m[n]
	if ok {
		rs.lru.Remove(e)
		delete(rs.m, n)
	}
	rs.mu.Unlock()
	if ok {
		e.Value.(*nodeReader).close()
	}
}

func (nr *nodeReader) close() {
	nr.mu.Lock()
	defer nr.mu.Unlock()
	nr.closed = true
	if err := nr.r.Close(); err != nil {
		nr.node.t.log.Debug("mount: close reader", "file", nr.node.f.Path, "err", err)
	}
}
