package index

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/sources"
)

// restoreWriter writes a plan's files, several at a time, each under a
// temporary name renamed into place when complete.
type restoreWriter struct {
	s     *Store
	own   *owners
	opts  RestoreOptions
	total int64

	done, bytes, verified atomic.Int64

	mu       sync.Mutex
	failures []string
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 1<<20); return &b }}

// run writes every item; a failed item is recorded and the others go on,
// until ctx ends.
func (w *restoreWriter) run(ctx context.Context, items []restoreItem) {
	workers := w.opts.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	var g errgroup.Group
	g.SetLimit(workers)
	var links []restoreItem
	for _, it := range items {
		if ctx.Err() != nil {
			break
		}
		if it.linkTo != "" {
			links = append(links, it)
			continue
		}
		g.Go(func() error {
			if err := w.one(ctx, it); err != nil {
				if ctx.Err() == nil {
					w.fail(fmt.Sprintf("%s: %v", it.f.Path, err))
				}
				return nil
			}
			nb := w.bytes.Add(it.f.Size)
			nf := w.done.Add(1)
			if w.opts.Progress != nil {
				w.opts.Progress(nf, nb, w.total)
			}
			return nil
		})
	}
	_ = g.Wait()
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

// link makes it a hard link to its file's first name, written (or found
// complete) before; the link gets its final name by rename, like a file.
func (w *restoreWriter) link(it restoreItem) error {
	if _, err := os.Lstat(it.linkTo); err != nil {
		return fmt.Errorf("hard link to %s: its first name was not restored", it.linkTo)
	}
	tmp := tempName(it.dst)
	err := os.Link(it.linkTo, tmp)
	if err == nil {
		err = os.Rename(tmp, it.dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("hard link to %s: %w", it.linkTo, err)
	}
	return nil
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

// tempName returns a fresh temporary name in dst's directory.
func tempName(dst string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(filepath.Dir(dst), tempPrefix+hex.EncodeToString(b[:]))
}

// one writes one file or symlink under a temporary name, gives it its
// owner (before the mode, whose setuid and setgid bits a chown would
// clear), mode and times, and renames it to its final name. On any
// failure the temporary is removed.
func (w *restoreWriter) one(ctx context.Context, it restoreItem) error {
	tmp := tempName(it.dst)
	var err error
	if it.f.Type == sources.TypeSymlink {
		err = w.symlink(it.f, tmp)
	} else {
		err = w.file(ctx, it.f, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, it.dst)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

func (w *restoreWriter) symlink(f File, tmp string) error {
	if err := os.Symlink(f.Target, tmp); err != nil {
		return err
	}
	w.own.apply(f, tmp, func(uid, gid int) error { return os.Lchown(tmp, uid, gid) })
	_ = lutimes(tmp, f.ModTime)
	return nil
}

func (w *restoreWriter) file(ctx context.Context, f File, tmp string) error {
	out, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	sum, err := w.copyContent(ctx, f, out)
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
		err = os.Chtimes(tmp, f.ModTime, f.ModTime)
	}
	return err
}

// copyContent streams f's content (each chunk checked against its hash
// as it is read) into out and returns the bytes' xxhash, for Verify.
func (w *restoreWriter) copyContent(ctx context.Context, f File, out *os.File) (uint64, error) {
	r := w.s.NewStreamReader(ctx, f)
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
