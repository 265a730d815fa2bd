package fs

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// Reading a directory of small files through the mount (tar, cp -r,
// rsync) is one file at a time: each file's read waits for its chunk to be
// fetched, checked and decompressed, and a second core sits idle. So when
// a file is first read, the files that follow it in its directory's
// listing (the order those tools read in) are decoded into the store's
// chunk cache on up to prefetchWorkers goroutines, a window of at most
// prefetchFiles files or prefetchBytes of content ahead.

// prefetcher is what a Catalog may offer to warm its cache for a file
// about to be read; *index.Store does.
type prefetcher interface {
	PrefetchFiles(ctx context.Context, files []index.File)
}

const (
	prefetchFiles   = 32
	prefetchBytes   = 4 << 20
	prefetchWorkers = 2
	// prefetchQueue bounds the files waiting; older ones are dropped
	// first (the reader has passed them).
	prefetchQueue = 256
	// prefetchBatch is how many files a worker takes at a time: located
	// together, decoded in order.
	prefetchBatch = 8
	// prefetchTimeout bounds one batch's prefetch on a slow backend.
	prefetchTimeout = time.Minute
)

// fileQueue runs prefetches on goroutines that exist only while there
// is work, so a mount needs no shutdown for them.
type fileQueue struct {
	p       prefetcher
	mu      sync.Mutex
	queue   []index.File
	running int
}

// add queues files and starts a worker if fewer than prefetchWorkers run.
func (q *fileQueue) add(files []index.File) {
	if len(files) == 0 {
		return
	}
	q.mu.Lock()
	q.queue = append(q.queue, files...)
	if extra := len(q.queue) - prefetchQueue; extra > 0 {
		q.queue = append(q.queue[:0], q.queue[extra:]...)
	}
	start := q.running < prefetchWorkers
	if start {
		q.running++
	}
	q.mu.Unlock()
	if start {
		go q.work()
	}
}

func (q *fileQueue) work() {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running--
			q.mu.Unlock()
			return
		}
		n := min(prefetchBatch, len(q.queue))
		batch := slices.Clone(q.queue[:n])
		q.queue = q.queue[n:]
		q.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), prefetchTimeout)
		q.p.PrefetchFiles(ctx, batch)
		cancel()
	}
}

// prefetchAfter queues the files that follow the listing's entry idx and
// were not queued before.
func (t *tree) prefetchAfter(d *vdir, idx int) {
	if t.prefetch == nil || d == nil || idx < 0 {
		return
	}
	t.prefetch.add(d.following(idx))
}

// following returns the regular files with stored content in the window
// after the listing's entry idx that no earlier call returned.
func (d *vdir) following(idx int) []index.File {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.loaded || idx >= len(d.list) {
		return nil
	}
	var out []index.File
	var bytes int64
	j := idx + 1
	for ; j < len(d.list) && j <= idx+prefetchFiles && bytes < prefetchBytes; j++ {
		f := d.list[j]
		if f.Type != sources.TypeFile || len(f.Chunks) == 0 {
			continue
		}
		bytes += f.Size
		if j >= d.ahead {
			out = append(out, f)
		}
	}
	d.ahead = max(d.ahead, j)
	return out
}
