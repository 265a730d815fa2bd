package posix

import (
	"context"
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// errChanged is what the reader returns to the Writer when the file changed
// while it was being read; the Writer's Add then fails and the file is read
// again.
var errChanged = errors.New("file changed while being read")

// errVanished means the file was removed before it could be opened.
var errVanished = errors.New("file vanished")

// readFile adds one file, reading it a second time if it changed during
// the first read.
func (b *backup) readFile(ctx context.Context, job fileJob) error {
	for attempt := 1; ; attempt++ {
		err := b.tryFile(ctx, job)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, errVanished):
			b.warn.add(fmt.Sprintf("%s vanished during the backup", job.full))
			return nil
		case errors.Is(err, errChanged) && attempt < 2:
			continue
		case errors.Is(err, errChanged):
			return fmt.Errorf("read %s: it changed while being read, twice; stop what writes it during the backup or move it out of the backed-up directory", job.full)
		default:
			return err
		}
	}
}

// tryFile opens, checks and streams one file. The entry's metadata comes
// from the open file, so that it describes the bytes read.
func (b *backup) tryFile(ctx context.Context, job fileJob) error {
	fd, st, err := openFile(job.full)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		b.warn.add(fmt.Sprintf("skipped %s: it became a %s during the backup", job.full, typeName(st.Mode)))
		return nil
	}
	e := entryFromStat(job.rel, sources.TypeFile, st)
	r := &checkedReader{fd: fd, name: job.full, open: *st}
	err = b.w.Add(ctx, e, r)
	b.stats.bytesRead.Add(r.n)
	if r.changed {
		return errChanged
	}
	if err != nil {
		return fmt.Errorf("add %s: %w", job.full, err)
	}
	return nil
}

// openFile opens a regular file for reading without following a symlink
// (it was a file when listed), without blocking should it have become a
// FIFO, and without touching its atime where allowed. It returns the bare
// descriptor: an *os.File cost two more system calls per file (a flags
// query and a poller registration that regular files refuse), a tenth of
// the calls of reading a source tree's small files.
func openFile(full string) (int, *unix.Stat_t, error) {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	fd, err := unix.Open(full, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(full, flags, 0)
	}
	if errors.Is(err, unix.ENOENT) {
		return -1, nil, errVanished
	}
	if err != nil {
		return -1, nil, fmt.Errorf("open %s: %w", full, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("fstat %s: %w", full, err)
	}
	if st.Size > sequentialHint {
		_ = unix.Fadvise(fd, 0, 0, unix.FADV_SEQUENTIAL) // a hint only
	}
	return fd, &st, nil
}

// sequentialHint is the size above which a file is worth telling the
// kernel it will be read sequentially (a larger read-ahead); a smaller one
// is read in one or two calls anyway.
const sequentialHint = 1 << 20

var _ sources.RangeReader = (*checkedReader)(nil)

// checkedReader streams a file and notices when it changes underneath: more
// or fewer bytes than its size at open, or a different size, mtime or ctime
// at the end. It then fails the read with errChanged.
type checkedReader struct {
	fd      int
	name    string
	open    unix.Stat_t
	n       int64
	changed bool
}

// Read reads up to the size the file had at open and then reports the end
// without asking the kernel for the empty read that would confirm it: the
// check at the end (size, mtime and ctime unchanged) sees any write.
func (r *checkedReader) Read(p []byte) (int, error) {
	if r.changed {
		return 0, errChanged
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.n >= r.open.Size {
		return 0, r.atEOF()
	}
	n, err := readOnce(r.fd, p)
	r.n += int64(n)
	if r.n > r.open.Size {
		r.changed = true
		return 0, errChanged
	}
	if err != nil {
		return n, fmt.Errorf("read %s: %w", r.name, err)
	}
	if n == 0 { // shorter than at open
		return 0, r.atEOF()
	}
	return n, nil
}

// ReadAt implements sources.RangeReader (and io.ReaderAt: it fills p
// unless the file ends first): pread(2) from any goroutine.
func (r *checkedReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := preadFull(r.fd, p, off)
	if err != nil {
		return n, fmt.Errorf("read %s: %w", r.name, err)
	}
	if n < len(p) {
		return n, io.EOF // shorter than at open: ReadAtDone says so
	}
	return n, nil
}

// preadFull fills p from offset off unless the file ends first, retrying
// on EINTR and after short reads.
func preadFull(fd int, p []byte, off int64) (int, error) {
	total := 0
	for total < len(p) {
		n, err := unix.Pread(fd, p[total:], off+int64(total))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return total, err
		}
		if n == 0 {
			break
		}
		total += n
	}
	return total, nil
}

// ReadAtDone implements sources.RangeReader: the ranges read must add up
// to the size at open, and size, mtime and ctime must not have moved.
func (r *checkedReader) ReadAtDone(read int64) error {
	r.n = read
	if err := r.atEOF(); !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// readOnce is one read(2), retried on EINTR.
func readOnce(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err == unix.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

// atEOF compares what was read and the file's state now with the state at
// open.
func (r *checkedReader) atEOF() error {
	changed, err := changedSince(r.fd, r.name, &r.open, r.n)
	if err != nil {
		return err
	}
	if changed {
		r.changed = true
		return errChanged
	}
	return io.EOF
}

// changedSince says whether the file open as fd, of which read bytes were
// read, is not what it was when open was taken: a different size read,
// or a size, mtime or ctime that moved.
func changedSince(fd int, name string, open *unix.Stat_t, read int64) (bool, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false, fmt.Errorf("fstat %s: %w", name, err)
	}
	return read != open.Size || st.Size != open.Size || st.Mtim != open.Mtim || st.Ctim != open.Ctim, nil
}
