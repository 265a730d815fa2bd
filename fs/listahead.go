package fs

import (
	"context"
	"sync"
	"time"
)

// Listing a tree through the mount (ls -lR, find, du, rsync's scan of a
// version) opens one directory at a time, and each OPENDIR waited for
// the catalog to read that directory's listing while the tool, and the
// second core, sat idle: a cold `ls -lR` of a 78,000-file tree took twice
// as long as on the source. So when a directory's entries are handed to
// the kernel, the listings of the directories among them are read ahead
// on up to listWorkers goroutines. Tools descend depth first into the
// directory they just listed, so the newest batch (one parent's
// subdirectories, in listing order) is read first; at most listQueue
// directories wait, the oldest batches dropped first. A listing is read
// once either way: the OPENDIR that comes during a read-ahead waits for
// it under the directory's lock.
const (
	listWorkers = 2
	listQueue   = 256
	// listTimeout bounds one read-ahead listing on a slow backend.
	listTimeout = time.Minute
)

// listBatch is one parent's subdirectories waiting to be listed.
type listBatch struct {
	parent *vdir
	dirs   []*vdir
}

// listAhead runs listing read-aheads on goroutines that exist only while
// there is work.
type listAhead struct {
	mu      sync.Mutex
	batches []listBatch
	workers workers
}

// add queues d, a subdirectory of parent just handed to the kernel.
func (q *listAhead) add(parent, d *vdir) {
	q.mu.Lock()
	if n := len(q.batches); n > 0 && q.batches[n-1].parent == parent {
		q.batches[n-1].dirs = append(q.batches[n-1].dirs, d)
	} else {
		q.batches = append(q.batches, listBatch{parent: parent, dirs: []*vdir{d}})
	}
	waiting := 0
	for _, b := range q.batches {
		waiting += len(b.dirs)
	}
	for ; waiting > listQueue; waiting-- {
		if b := &q.batches[0]; len(b.dirs) > 1 {
			b.dirs = b.dirs[1:]
		} else {
			q.batches = q.batches[1:]
		}
	}
	start := q.workers.start(listWorkers)
	q.mu.Unlock()
	if start {
		go q.work()
	}
}

// next takes the first directory of the newest batch, nil when none
// waits (and then the worker ends).
func (q *listAhead) next() *vdir {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.batches)
	if n == 0 {
		q.workers.stop()
		return nil
	}
	b := &q.batches[n-1]
	d := b.dirs[0]
	b.dirs = b.dirs[1:]
	if len(b.dirs) == 0 {
		q.batches = q.batches[:n-1]
	}
	return d
}

func (q *listAhead) work() {
	for d := q.next(); d != nil; d = q.next() {
		ctx, cancel := context.WithTimeout(context.Background(), listTimeout)
		_ = d.load(ctx) // a failure is reported when the directory is opened
		cancel()
	}
}
