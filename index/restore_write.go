package index

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// restoreWriter writes a plan's files, several at a time, each under a
// temporary name renamed into place when complete.
type restoreWriter struct {
	s    *Store
	own  *owners
	opts RestoreOptions
	to   restoreTarget
	// root is the open target: every file is created relative to its
	// directory opened beneath it, following no symlink.
	root  *restoreRoot
	total int64
	// reads fetch the chunks of large files being streamed, with their
	// read-ahead, into a cache of their own: small, as a restore reads
	// most chunks once.
	reads chunkReads

	done, bytes, verified atomic.Int64

	mu       sync.Mutex
	failures []string
}

// copyBufs are the workers' buffers for streaming a large file to disk
// (and reading it back to verify): 256 KiB wrote a source tree as fast as
// 1 MiB did.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// run writes every item; a failed item is recorded and the others go on,
// until ctx ends. A fixed pool of workers takes jobs (one file, or the
// small files of one pack run): a goroutine per file grew a fresh stack
// through the read and write path 80,000 times for a source tree.
func (w *restoreWriter) run(ctx context.Context, items []restoreItem) {
	workers := w.opts.Workers
	if workers <= 0 {
		workers = 2 * sources.CPUs()
	}
	writes := items // no copy of a million items when there are no links
	var links []restoreItem
	if slices.ContainsFunc(items, func(it restoreItem) bool { return it.linkTo != "" }) {
		writes = nil
		for _, it := range items {
			if it.linkTo != "" {
				links = append(links, it)
			} else {
				writes = append(writes, it)
			}
		}
	}
	jobs, missing, err := w.s.restoreJobs(writes)
	if err != nil {
		w.fail(err.Error())
		return
	}
	for _, it := range missing {
		w.fail(fmt.Sprintf("%s: chunk %s: %v", it.f.Path, it.f.Chunks[0].ID, ErrNotFound))
	}
	queue := make(chan restoreJob)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				w.job(ctx, j)
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		queue <- j
	}
	close(queue)
	wg.Wait()
	for _, it := range links {
		if ctx.Err() != nil {
			return
		}
		if err := w.link(it); err != nil {
			w.fail(fmt.Sprintf("%s: %v", it.f.Path, err))
			continue
		}
		w.done.Add(1)
	}
}

// job writes one job's files.
func (w *restoreWriter) job(ctx context.Context, j restoreJob) {
	if j.run == nil {
		w.finished(ctx, j.item, w.one(ctx, j.item, nil))
		return
	}
	w.s.readRun(ctx, j.run, func(f *File, data []byte, err error) {
		it := restoreItem{f: f} // a packed file: never a hard link to an earlier name
		if err == nil {
			err = w.one(ctx, it, data)
		}
		w.finished(ctx, it, err)
	})
}

// finished counts a written item or records its failure.
func (w *restoreWriter) finished(ctx context.Context, it restoreItem, err error) {
	if err != nil {
		if ctx.Err() == nil {
			w.fail(fmt.Sprintf("%s: %v", it.f.Path, err))
		}
		return
	}
	nb := w.bytes.Add(it.f.Size)
	nf := w.done.Add(1)
	if w.opts.Progress != nil {
		w.opts.Progress(nf, nb, w.total)
	}
}

// link makes it a hard link to its file's first name, written (or found
// complete) before; the link gets its final name by rename, like a file.
// Both names are reached through their directories opened beneath the
// target; the first name, if it is a symlink now, is linked itself, not
// followed.
func (w *restoreWriter) link(it restoreItem) error {
	ldir, lname := splitRel(it.linkTo)
	lfd, err := w.root.openDir(ldir)
	if err != nil {
		return fmt.Errorf("hard link to %s: %w", w.to.join(it.linkTo), err)
	}
	defer unix.Close(lfd)
	var st unix.Stat_t
	if err := unix.Fstatat(lfd, lname, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("hard link to %s: its first name was not restored", w.to.join(it.linkTo))
	}
	err = w.place(it.f.Path, func(dfd int, tmp string) error { return unix.Linkat(lfd, lname, dfd, tmp, 0) })
	if err != nil {
		return fmt.Errorf("hard link to %s: %w", w.to.join(it.linkTo), err)
	}
	return nil
}

// place makes the entry at path: create makes it under a temporary name
// in the entry's directory, opened beneath the target without following
// symlinks (so a symlink in the target, one the restore itself wrote
// say, never takes a write elsewhere), and it is renamed to its final
// name there. On any failure the temporary is removed.
func (w *restoreWriter) place(path string, create func(dfd int, tmp string) error) error {
	dir, name := splitRel(w.to.rel(path))
	dfd, err := w.root.openDir(dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	tmp := tempName()
	err = create(dfd, tmp)
	if err == nil {
		if err = unix.Renameat(dfd, tmp, dfd, name); err != nil {
			err = fmt.Errorf("rename into place: %w", err)
		}
	}
	if err != nil {
		_ = unix.Unlinkat(dfd, tmp, 0)
	}
	return err
}

func (w *restoreWriter) fail(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failures = append(w.failures, msg)
}

// failureError names the first failures.
func (w *restoreWriter) failureError(of int) error {
	return fmt.Errorf("restore: %d of %d files failed and were not written (no partial file is left under its final name; the others are restored):%s",
		len(w.failures), of, firstLines(w.failures, 5))
}

// tempRun tells this process's temporaries from any other's: random
// once per process, then a counter, rather than a getrandom call per file.
var tempRun = func() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}()

var tempSeq atomic.Uint64

// tempName returns a fresh temporary name, for a file's directory.
func tempName() string {
	return tempPrefix + tempRun + "-" + strconv.FormatUint(tempSeq.Add(1), 36)
}

// one writes one file or symlink (a file's content given, or read from
// the store when nil) in place (see place), with its owner (before the
// mode, whose setuid and setgid bits a chown would clear), mode and
// times.
func (w *restoreWriter) one(ctx context.Context, it restoreItem, content []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return w.place(it.f.Path, func(dfd int, tmp string) error {
		if it.f.Type == sources.TypeSymlink {
			return w.symlink(*it.f, dfd, tmp)
		}
		return w.file(ctx, *it.f, dfd, tmp, content)
	})
}

func (w *restoreWriter) symlink(f File, dfd int, tmp string) error {
	if err := unix.Symlinkat(f.Target, dfd, tmp); err != nil {
		return fmt.Errorf("create symlink: %w", err)
	}
	w.own.apply(f, w.to.of(f.Path), func(uid, gid int) error { return unix.Fchownat(dfd, tmp, uid, gid, unix.AT_SYMLINK_NOFOLLOW) })
	_ = timesAt(dfd, tmp, f.ModTime)
	return nil
}

func (w *restoreWriter) file(ctx context.Context, f File, dfd int, tmp string, content []byte) error {
	fd, err := unix.Openat(dfd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	out := os.NewFile(uintptr(fd), w.to.of(f.Path))
	var sum uint64
	if content != nil {
		sum, err = writeContent(out, content, f.Size)
	} else {
		sum, err = w.copyContent(ctx, f, out)
	}
	if err == nil && w.opts.Verify {
		err = verifyFile(out, f.Size, sum)
		if err == nil {
			w.verified.Add(1)
		}
	}
	if err == nil {
		w.own.apply(f, tmp, out.Chown)
		err = out.Chmod(os.FileMode(f.Mode&0o777) | modeBits(f.Mode))
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = timesAt(dfd, tmp, f.ModTime)
	}
	return err
}

// copyContent streams f's content (each chunk checked against its hash
// as it is read) into out and returns the bytes' xxhash, for Verify.
func (w *restoreWriter) copyContent(ctx context.Context, f File, out *os.File) (uint64, error) {
	r := &streamReader{ctx: ctx, r: w.s.openFileIn(f, w.reads)}
	defer r.Close()
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	h := xxhash.New()
	var dst io.Writer = out
	if w.opts.Verify {
		dst = io.MultiWriter(out, h)
	}
	n, err := io.CopyBuffer(dst, r, *buf)
	if err != nil {
		return 0, err
	}
	if n != f.Size {
		return 0, fmt.Errorf("read %d bytes from the store, the version says %d", n, f.Size)
	}
	return h.Sum64(), nil
}

// writeContent writes a file's content held in memory (a small file's
// chunk) and returns its xxhash, for Verify.
func writeContent(out *os.File, content []byte, size int64) (uint64, error) {
	if int64(len(content)) != size {
		return 0, fmt.Errorf("read %d bytes from the store, the version says %d", len(content), size)
	}
	if _, err := out.Write(content); err != nil {
		return 0, err
	}
	return xxhash.Sum64(content), nil
}

// errVerify is returned when a written file does not read back as what
// was written.
var errVerify = errors.New("written file does not read back as the version's content")

// verifyFile reads out back from the start and compares its length and
// hash with what was written.
func verifyFile(out *os.File, size int64, sum uint64) error {
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	h := xxhash.New()
	n, err := io.CopyBuffer(h, io.NewSectionReader(out, 0, size+1), *buf)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if n != size || h.Sum64() != sum {
		return fmt.Errorf("verify: %w (%d bytes read back of %d)", errVerify, n, size)
	}
	return nil
}
