package posix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// errChanged is what the reader returns to the Writer when the file changed
// while it was being read; the Writer's Add then fails and the file is read
// again.
var errChanged = errors.New("file changed while being read")

// errVanished means the file was removed before it could be opened.
var errVanished = errors.New("file vanished")

// readFiles reads queued files until there are no more, or until the
// backup is cancelled: the queue may still hold files then, and none of
// them must reach the Writer.
func (b *backup) readFiles(ctx context.Context) error {
	for job := range b.files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.readFile(ctx, job); err != nil {
			return err
		}
	}
	return ctx.Err()
}

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
	f, st, err := openFile(job.full)
	if err != nil {
		return err
	}
	defer f.Close()
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		b.warn.add(fmt.Sprintf("skipped %s: it became a %s during the backup", job.full, typeName(st.Mode)))
		return nil
	}
	e := entryFromStat(job.rel, sources.TypeFile, st)
	r := &checkedReader{f: f, fd: int(f.Fd()), open: *st}
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
// FIFO, and without touching its atime where allowed.
func openFile(full string) (*os.File, *unix.Stat_t, error) {
	flags := unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_CLOEXEC
	fd, err := unix.Open(full, flags|unix.O_NOATIME, 0)
	if errors.Is(err, unix.EPERM) {
		fd, err = unix.Open(full, flags, 0)
	}
	if errors.Is(err, unix.ENOENT) {
		return nil, nil, errVanished
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", full, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil, fmt.Errorf("fstat %s: %w", full, err)
	}
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_SEQUENTIAL) // a hint only
	return os.NewFile(uintptr(fd), full), &st, nil
}

// checkedReader streams a file and notices when it changes underneath: more
// or fewer bytes than its size at open, or a different size, mtime or ctime
// at the end. It then fails the read with errChanged.
type checkedReader struct {
	f       *os.File
	fd      int
	open    unix.Stat_t
	n       int64
	changed bool
}

func (r *checkedReader) Read(p []byte) (int, error) {
	if r.changed {
		return 0, errChanged
	}
	n, err := r.f.Read(p)
	r.n += int64(n)
	if r.n > r.open.Size {
		r.changed = true
		return 0, errChanged
	}
	if err == io.EOF {
		return n, r.atEOF()
	}
	return n, err
}

// atEOF compares what was read and the file's state now with the state at
// open.
func (r *checkedReader) atEOF() error {
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		return fmt.Errorf("fstat %s: %w", r.f.Name(), err)
	}
	if r.n != r.open.Size || st.Size != r.open.Size || st.Mtim != r.open.Mtim || st.Ctim != r.open.Ctim {
		r.changed = true
		return errChanged
	}
	return io.EOF
}
