package posix

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/uring"
)

// Small files are read in batches, each batch's reads submitted to the
// kernel at once (sources/uring): files written one after the other lie
// next to each other on disk, and their reads, submitted together in the
// walk's name order and a directory's files together, reach the disk as
// a few large requests instead of one each. A cold second backup of the
// kernel source tree (78,613 files, every mtime changed) made 84,675
// read requests one file at a time and 17,367 in batches; alternating
// runs took 5.9-6.9 s one file at a time and 3.9-4.5 s in batches.
// Files are opened and checked one by one as before; only the reads are
// batched. A file that changed while read, or whose batched read failed,
// is read again the usual way, which reports it. Where the kernel has no
// io_uring (older than 5.6, disabled, or refused by a container's seccomp
// profile) every file is read the usual way.
const (
	// batchMaxFiles and batchMaxBytes bound one batch: 64 files of the
	// kernel tree in name order (a C test, reads only) merged to 11,819
	// requests, 16 to 18,478.
	batchMaxFiles = 64
	batchMaxBytes = 1 << 20
	// batchBuffers is how many batches may be read or waiting for the
	// readers at once: one being read while two are hashed, 3 MiB.
	batchBuffers = 3
)

// batchFileMax is the largest file read in a batch (a quarter of a
// batch); a larger one streams through the kernel's read-ahead, which
// asks for large requests itself. (A variable for tests.)
var batchFileMax int64 = 256 << 10

// batchReadHook, when set (by tests), runs for each file of a batch just
// before the batch is read.
var batchReadHook func(full string)

// batchFile is a small file of a batch: open (fd) until the batch is
// read, then handed to a reader with its content, data, which lies in buf.
type batchFile struct {
	job  fileJob
	fd   int
	st   unix.Stat_t
	data []byte
	buf  *batchBuf
}

// batchBuf is one batch's memory, back to the free list when every file
// read into it was added.
type batchBuf struct {
	mem  []byte
	refs atomic.Int32
	free chan *batchBuf
}

func (b *batchBuf) release() {
	if b.refs.Add(-1) == 0 {
		b.free <- b
	}
}

// batcher turns the walk's queued files into batches: small files go to
// loaded, read; larger ones (and every file where io_uring is not
// available) to stream, for the readers to read themselves.
type batcher struct {
	b      *backup
	loaded chan batchFile
	stream chan fileJob
	free   chan *batchBuf
	ring   *uring.Ring
	reads  []uring.Read
	pend   []batchFile
	cur    *batchBuf
	used   int
	maps   [][]byte // the buffers' memory, unmapped when the readers are done
}

func newBatcher(b *backup) *batcher {
	return &batcher{
		b:      b,
		loaded: make(chan batchFile, batchMaxFiles),
		stream: make(chan fileJob, 4*b.workers),
		free:   make(chan *batchBuf, batchBuffers),
	}
}

// mapBuffers makes the batch buffers, their memory mapped outside the Go
// heap: the collector's slack (gcBackup's 35%) would add a third again
// to their 3 MiB, on a backup whose peak RSS is within a few MiB of
// restic's.
func (t *batcher) mapBuffers() error {
	for range batchBuffers {
		mem, err := unix.Mmap(-1, 0, batchMaxBytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return fmt.Errorf("map batch buffer: %w", err)
		}
		t.maps = append(t.maps, mem)
		t.free <- &batchBuf{mem: mem, free: t.free}
	}
	return nil
}

// run batches until the walk ends, then closes both outputs. The ring is
// set up, used and closed on one thread (uring.New).
func (t *batcher) run(ctx context.Context) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(t.stream)
	defer close(t.loaded)
	ring, err := uring.New(batchMaxFiles)
	if err == nil {
		err = t.mapBuffers()
	}
	if err != nil {
		if ring != nil {
			ring.Close()
		}
		return t.forward(ctx)
	}
	defer ring.Close()
	t.ring = ring
	for {
		var jobs []fileJob
		var ok bool
		if len(t.pend) == 0 {
			select {
			case jobs, ok = <-t.b.files:
			case <-ctx.Done():
				return ctx.Err()
			}
		} else {
			select {
			case jobs, ok = <-t.b.files:
			default: // the walk is behind: read what is there
				if err := t.flush(ctx); err != nil {
					return err
				}
				continue
			}
		}
		if !ok {
			return t.flush(ctx)
		}
		for _, job := range jobs {
			if err := t.take(ctx, job); err != nil {
				return err
			}
		}
	}
}

// unmap releases the buffers' memory, once the readers are done.
func (t *batcher) unmap() {
	for _, m := range t.maps {
		_ = unix.Munmap(m)
	}
	t.maps = nil
}

// forward hands every file to the readers: no batches.
func (t *batcher) forward(ctx context.Context) error {
	for jobs := range t.b.files {
		for _, job := range jobs {
			if err := t.toStream(ctx, job); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *batcher) toStream(ctx context.Context, job fileJob) error {
	select {
	case t.stream <- job:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// take opens job's file for the batch, or sends it to be streamed.
func (t *batcher) take(ctx context.Context, job fileJob) error {
	if t.ring == nil || job.size > batchFileMax {
		return t.toStream(ctx, job)
	}
	fd, st, err := openFile(job.full)
	if err != nil { // the reader's own open reports it
		return t.toStream(ctx, job)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size > batchFileMax {
		unix.Close(fd)
		return t.toStream(ctx, job)
	}
	size := int(st.Size)
	if t.cur != nil && t.used+size > len(t.cur.mem) {
		if err := t.flush(ctx); err != nil {
			unix.Close(fd)
			return err
		}
	}
	if t.cur == nil {
		select {
		case t.cur = <-t.free:
			t.used = 0
		case <-ctx.Done():
			unix.Close(fd)
			return ctx.Err()
		}
	}
	t.pend = append(t.pend, batchFile{job: job, fd: fd, st: *st, data: t.cur.mem[t.used : t.used+size : t.used+size]})
	t.used += size
	if len(t.pend) == batchMaxFiles {
		return t.flush(ctx)
	}
	return nil
}

// flush reads the pending files in one submission and hands them on: a
// file read whole and unchanged to a reader with its content, any other
// to be read again the usual way (which retries a changed file, or
// reports what failed). A ring that fails is not used again: its files,
// and all after, stream.
func (t *batcher) flush(ctx context.Context) error {
	if len(t.pend) == 0 {
		return nil
	}
	pend := t.pend
	t.pend = t.pend[:0]
	t.reads = t.reads[:0]
	for _, f := range pend {
		t.reads = append(t.reads, uring.Read{FD: f.fd, Buf: f.data})
	}
	if batchReadHook != nil {
		for _, f := range pend {
			batchReadHook(f.job.full)
		}
	}
	buf := t.cur
	t.cur = nil
	if err := t.ring.Submit(t.reads); err != nil {
		// Reads may still be in flight: the buffers stay mapped.
		t.ring, t.maps = nil, nil
		closeFiles(pend)
		for _, f := range pend {
			if err := t.toStream(ctx, f.job); err != nil {
				return err
			}
		}
		return nil
	}
	buf.refs.Store(int32(len(pend)) + 1) // +1: ours, until all are sent
	defer buf.release()
	for i := range pend {
		f := &pend[i]
		n, ok := f.finish(t.reads[i])
		unix.Close(f.fd)
		if !ok {
			buf.release()
			if err := t.toStream(ctx, f.job); err != nil {
				closeFiles(pend[i+1:])
				return err
			}
			continue
		}
		f.data, f.buf = f.data[:n], buf
		select {
		case t.loaded <- *f:
		case <-ctx.Done():
			closeFiles(pend[i+1:])
			return ctx.Err()
		}
	}
	return nil
}

// finish completes f's batched read rd where it came back short and
// reports the bytes read and whether they are the file's whole content,
// unchanged since it was opened.
func (f *batchFile) finish(rd uring.Read) (int, bool) {
	n, err := rd.Res, rd.Err
	if err == nil && n < len(f.data) {
		var k int
		k, err = preadFull(f.fd, f.data[n:], int64(n))
		n += k
	}
	if err != nil {
		return n, false
	}
	changed, err := changedSince(f.fd, f.job.full, &f.st, int64(n))
	return n, err == nil && !changed
}

func closeFiles(fs []batchFile) {
	for _, f := range fs {
		unix.Close(f.fd)
	}
}

// readLoaded is a reader's loop with a batcher: files read in batches are
// added from memory, the others read as without one.
func (b *backup) readLoaded(ctx context.Context, t *batcher) error {
	loaded, stream := t.loaded, t.stream
	for loaded != nil || stream != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case f, ok := <-loaded:
			if !ok {
				loaded = nil
				continue
			}
			err := b.addLoaded(ctx, f)
			f.buf.release()
			if err != nil {
				return err
			}
		case job, ok := <-stream:
			if !ok {
				stream = nil
				continue
			}
			if err := b.readFile(ctx, job); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return ctx.Err()
}

// addLoaded adds a file the batcher read.
func (b *backup) addLoaded(ctx context.Context, f batchFile) error {
	e := entryFromStat(f.job.rel, sources.TypeFile, &f.st)
	err := b.w.Add(ctx, e, bytes.NewReader(f.data))
	b.stats.bytesRead.Add(int64(len(f.data)))
	if err != nil {
		return fmt.Errorf("add %s: %w", f.job.full, err)
	}
	return nil
}

// batchesAvailable reports whether this kernel gives a ring, once per
// process.
var batchesAvailable = sync.OnceValue(func() bool {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := uring.New(1)
	if err != nil {
		return false
	}
	r.Close()
	return true
})
