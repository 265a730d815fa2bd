package index

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/index/lock"
)

// A mount runs for weeks and is asked for @diff of any pair of times, so
// computed diffs are kept in one LRU cache bounded by an estimate of the
// heap they hold (diffCache), and recomputed when asked again after
// eviction. Large content a Differ writes goes to a spill file that is
// mapped read-only (spillDir): File.content then serves it like in-memory
// bytes, so every reader of File works unchanged, while the bytes live in
// the page cache, which the kernel can drop, not on the Go heap.

const (
	// defaultDiffCacheBytes is the cache bound when Options leave it 0.
	defaultDiffCacheBytes = 64 << 20
	// spillAbove is the largest file content a diff keeps on the heap.
	spillAbove = 1 << 20
	// memContentShare: one diff keeps at most 1/memContentShare of the
	// bound as heap content, so a few recent diffs fit beside it.
	memContentShare = 4
	// spillDiskFactor bounds the spill files kept by cached diffs, as a
	// multiple of the heap bound (64 MiB allows 1 GiB of disk).
	spillDiskFactor = 16
	// unmapGrace delays unmapping content no File refers to any more, so
	// that a read which copied the slice header just before its File
	// became unreachable finishes first.
	unmapGrace = 30 * time.Second
	// spillPrefix starts the name of a process's spill directory; the pid
	// follows, so that directories of dead processes can be removed.
	spillPrefix = "diffspill-"
)

// Estimated heap bytes of the parts of a cached diff: a File value with
// its map slot and the slice catalog.ReadDir builds, a chunk reference, a deleted
// path's string header, and the fixed part of an entry.
const (
	fileOverhead    = 256
	chunkRefBytes   = 40
	deletedOverhead = 16
	entryOverhead   = 512
)

// diffValue is a computed diff with what it costs to keep.
type diffValue struct {
	res *DiffResult
	// memContent is the file content the diff holds on the heap.
	memContent int64
	// spills are the diff's spill files and disk their total size.
	spills []string
	disk   int64
}

// diffCache keeps computed diffs by key, least recently used out first,
// within max.mem estimated heap bytes and max.disk spill bytes; the newest
// entry is always kept, however big. Concurrent callers of one key share
// one computation. An evicted diff's spill files are removed.
type diffCache struct {
	*lruFlight[string, diffValue]
	spill *spillDir
}

// newDiffCache returns a cache bounded by maxMem bytes (the default when
// <= 0) spilling into a directory under parent, and removes the spill
// directories that dead processes left there.
func newDiffCache(parent string, maxMem int64) *diffCache {
	if maxMem <= 0 {
		maxMem = defaultDiffCacheBytes
	}
	removeStaleSpills(parent)
	costOf := func(key string, v diffValue) cost { return cost{mem: v.memSize(key), disk: v.disk} }
	evicted := func(vs []diffValue) {
		for _, v := range vs {
			removeSpills(v.spills)
		}
	}
	return &diffCache{spill: &spillDir{parent: parent},
		lruFlight: newLRUFlight(cost{mem: maxMem, disk: maxMem * spillDiskFactor}, costOf, evicted)}
}

// get returns the diff under key, calling compute once for concurrent
// callers. A caller that waited on a computation that failed because its
// caller's context ended computes again under its own.
func (c *diffCache) get(ctx context.Context, key string, compute func() (diffValue, error)) (*DiffResult, error) {
	v, err := c.lruFlight.get(ctx, key, compute)
	return v.res, err
}

// peek returns a cached diff without computing it.
func (c *diffCache) peek(key string) (*DiffResult, bool) {
	v, ok := c.lruFlight.peek(key)
	return v.res, ok
}

// close forgets every entry and removes the spill directory. Content
// already handed out stays readable: a mapping outlives its file.
func (c *diffCache) close() {
	c.clear()
	c.spill.close()
}

// memSize estimates the heap a cached diff holds: paths and the other
// strings of its entries, a fixed overhead per entry, chunk references,
// heap content and the deleted paths. Spilled content is not counted
// here (it is disk, bounded apart).
func (v diffValue) memSize(key string) int64 {
	n := int64(entryOverhead+len(key)) + v.memContent
	if v.res == nil {
		return n
	}
	if v.res.tree != nil {
		for _, f := range v.res.tree.files {
			n += fileOverhead + int64(len(f.Path)+len(f.Target)+len(f.Fingerprint)) + chunkRefBytes*int64(len(f.Chunks))
			for k, a := range f.Attrs {
				n += int64(len(k) + len(a) + 32)
			}
			if f.Owner != nil {
				n += int64(64 + len(f.Owner.User) + len(f.Owner.Group))
			}
		}
	}
	for _, p := range v.res.Deleted {
		n += int64(len(p)) + deletedOverhead
	}
	return n
}

// spillDir is one process's directory of spill files, made on first use
// and removed by close.
type spillDir struct {
	parent string
	mu     sync.Mutex
	dir    string
	closed bool
}

// create makes a new spill file.
func (d *spillDir) create() (*os.File, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("spill diff content: store closed")
	}
	if d.dir == "" {
		if err := os.MkdirAll(d.parent, 0o700); err != nil {
			return nil, fmt.Errorf("make spill directory in %s: %w", d.parent, err)
		}
		dir, err := os.MkdirTemp(d.parent, fmt.Sprintf("%s%d-", spillPrefix, os.Getpid()))
		if err != nil {
			return nil, fmt.Errorf("make spill directory in %s: %w", d.parent, err)
		}
		d.dir = dir
	}
	f, err := os.CreateTemp(d.dir, "diff-")
	if err != nil {
		return nil, fmt.Errorf("create spill file in %s: %w", d.dir, err)
	}
	return f, nil
}

// path returns the directory, "" before the first spill.
func (d *spillDir) path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dir
}

func (d *spillDir) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	if d.dir != "" {
		os.RemoveAll(d.dir)
		d.dir = ""
	}
}

// removeStaleSpills deletes spill directories left by processes that died
// without Close (kill -9).
func removeStaleSpills(parent string) {
	old, _ := filepath.Glob(filepath.Join(parent, spillPrefix+"*-*"))
	for _, d := range old {
		var pid int
		if _, err := fmt.Sscanf(filepath.Base(d), spillPrefix+"%d-", &pid); err == nil && pid > 0 && lock.ProcessGone(pid) {
			os.RemoveAll(d)
		}
	}
}

// removeSpills unlinks evicted spill files; content still mapped by a
// File some reader holds stays readable until it is unmapped.
func removeSpills(paths []string) {
	for _, p := range paths {
		_ = os.Remove(p)
	}
}

// contentBuf collects one file of a Differ's output: on the heap while it
// is at most spillAbove bytes and the diff's heap budget allows, else in
// a spill file.
type contentBuf struct {
	ctx    context.Context
	spill  *spillDir
	budget *atomic.Int64 // heap content bytes the diff may still take
	mem    []byte
	f      *os.File
	w      *bufio.Writer
	n      int64
}

// Write appends p, moving the content to a spill file when it outgrows
// the heap.
func (b *contentBuf) Write(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	if b.f == nil {
		if len(b.mem)+len(p) <= spillAbove && b.budget.Add(-int64(len(p))) >= 0 {
			b.mem = append(b.mem, p...)
			b.n += int64(len(p))
			return len(p), nil
		}
		b.budget.Add(int64(len(p)))
		if err := b.startSpill(); err != nil {
			return 0, err
		}
	}
	n, err := b.w.Write(p)
	b.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("write spill file %s: %w", b.f.Name(), err)
	}
	return n, nil
}

// startSpill moves the heap part to a new spill file.
func (b *contentBuf) startSpill() error {
	f, err := b.spill.create()
	if err != nil {
		return err
	}
	b.f, b.w = f, bufio.NewWriterSize(f, 256<<10)
	if _, err := b.w.Write(b.mem); err != nil {
		return fmt.Errorf("write spill file %s: %w", f.Name(), err)
	}
	b.budget.Add(int64(len(b.mem)))
	b.mem = nil
	return nil
}

// spilledContent is a finished file's content: on the heap (path "") or
// mapped from the spill file at path, with carrier tying the mapping's
// life to the File values that refer to it.
type spilledContent struct {
	data    []byte
	carrier []ChunkRef
	path    string
	heap    int64
}

// finish returns the content; abort must be called instead on failure.
func (b *contentBuf) finish() (spilledContent, error) {
	if b.f == nil {
		return spilledContent{data: b.mem, heap: int64(len(b.mem))}, nil
	}
	defer b.f.Close()
	if err := b.w.Flush(); err != nil {
		b.abort()
		return spilledContent{}, fmt.Errorf("write spill file %s: %w", b.f.Name(), err)
	}
	data, carrier, err := mapReadOnly(b.f, b.n)
	if err != nil {
		b.abort()
		return spilledContent{}, err
	}
	return spilledContent{data: data, carrier: carrier, path: b.f.Name()}, nil
}

// abort drops the content and its spill file, if any.
func (b *contentBuf) abort() {
	b.budget.Add(int64(len(b.mem)))
	b.mem = nil
	if b.f != nil {
		b.f.Close()
		os.Remove(b.f.Name())
	}
}

// mapReadOnly maps the first n bytes of f. The mapping has no Go pointer,
// so its life is tied to carrier: an empty slice (len 0, cap 1) stored as
// the File's Chunks, which every copy of the File shares. When no copy is
// left the garbage collector runs a cleanup that unmaps, after
// unmapGrace. An empty Chunks changes nothing for readers: FileReader
// reads content when there is some.
func mapReadOnly(f *os.File, n int64) ([]byte, []ChunkRef, error) {
	data, err := unix.Mmap(int(f.Fd()), 0, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, fmt.Errorf("map spill file %s (%d bytes): %w", f.Name(), n, err)
	}
	carrier := new([1]ChunkRef)
	runtime.AddCleanup(carrier, unmapLater, data)
	return data, carrier[:0], nil
}

// unmapLater unmaps content that no File refers to any more.
func unmapLater(data []byte) {
	time.AfterFunc(unmapGrace, func() { _ = unix.Munmap(data) })
}
