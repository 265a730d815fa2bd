package posix

import "sync"

// dirQueue hands directories (relative paths) to the walkers. It is
// unbounded because walkers both take and add work; it ends when no
// directory is queued or being listed, or when closed.
type dirQueue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	dirs    []string
	pending int // queued plus being listed
	closed  bool
}

func newDirQueue() *dirQueue {
	q := &dirQueue{}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push queues a directory.
func (q *dirQueue) push(dir string) {
	q.mu.Lock()
	q.dirs = append(q.dirs, dir)
	q.pending++
	q.mu.Unlock()
	q.cond.Signal()
}

// pop waits for a directory; false means the walk is over. A caller that
// got a directory must call done when it has listed it. Taking the last
// pushed directory (depth first) keeps the queue short.
func (q *dirQueue) pop() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.dirs) == 0 && q.pending > 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed || len(q.dirs) == 0 {
		return "", false
	}
	d := q.dirs[len(q.dirs)-1]
	q.dirs = q.dirs[:len(q.dirs)-1]
	return d, true
}

// done marks a popped directory as listed.
func (q *dirQueue) done() {
	q.mu.Lock()
	q.pending--
	last := q.pending == 0
	q.mu.Unlock()
	if last {
		q.cond.Broadcast()
	}
}

// close ends the walk early (an error or a cancelled context).
func (q *dirQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.cond.Broadcast()
}
