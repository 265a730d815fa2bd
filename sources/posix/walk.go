package posix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// readdirBatch is how many names are listed per getdents round.
const readdirBatch = 1024

// progressEvery is how many files the walk finds between two progress
// events: often enough to show a large tree moving, rarely enough to cost
// nothing next to the lstats.
const progressEvery = 1000

// walk lists directories from the queue until the walk is over.
func (b *backup) walk(ctx context.Context) error {
	for {
		dir, ok := b.queue.pop()
		if !ok {
			return ctx.Err()
		}
		err := b.listDir(ctx, dir)
		b.queue.done()
		if err != nil {
			return err
		}
	}
}

// listDir handles every entry of the directory rel. Entries are lstat'ed
// relative to the open directory, which is faster than full paths and
// immune to the directory being renamed meanwhile.
func (b *backup) listDir(ctx context.Context, rel string) error {
	d, err := openDir(b.root, rel)
	if errors.Is(err, unix.ENOENT) && rel != "" {
		b.warn.add(fmt.Sprintf("directory %s vanished during the backup", b.full(rel)))
		return nil
	}
	if err != nil {
		return fmt.Errorf("open directory %s: %w", b.full(rel), err)
	}
	defer d.Close()
	dirfd := int(d.Fd())
	var l listing
	for {
		// In name order: files written one after another (unpacked,
		// copied, synced) lie on disk in about that order, and their
		// reads, batched, merge (batch.go).
		names, err := d.Readdirnames(readdirBatch)
		slices.Sort(names)
		for _, name := range names {
			if err := b.entry(ctx, dirfd, rel, name, &l); err != nil {
				return err
			}
		}
		if err := b.queueFiles(ctx, &l); err != nil {
			return err
		}
		if err == io.EOF {
			b.pushDirs(l.subdirs)
			return nil
		}
		if err != nil {
			return fmt.Errorf("list directory %s: %w", b.full(rel), err)
		}
	}
}

// listing is what listing a directory found to do next.
type listing struct {
	subdirs []string  // to walk
	files   []fileJob // to read, not yet queued
}

// queueFiles hands the files found so far to the batcher, together: the
// batches then hold runs of one directory's files.
func (b *backup) queueFiles(ctx context.Context, l *listing) error {
	if len(l.files) == 0 {
		return nil
	}
	select {
	case b.files <- l.files:
		l.files = nil
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pushDirs queues a directory's subdirectories so that the walk (which
// takes the last queued first) visits them in byte order of their names:
// the order in which the store loads the previous version's entries,
// whose lookups then wait least (sources.Previous).
func (b *backup) pushDirs(dirs []string) {
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		b.queue.push(d)
	}
}

// openDir opens the root (following a symlink there, as configured) or a
// directory below it (never following one).
func openDir(root, rel string) (*os.File, error) {
	flags := unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC
	if rel != "" {
		flags |= unix.O_NOFOLLOW
	}
	full := joinPath(root, rel)
	fd, err := unix.Open(full, flags, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), full), nil
}

// entry handles one name found in the directory rel (open as dirfd). A
// cancelled walk stops here, before the next lstat or Writer call, rather
// than after a whole directory.
func (b *backup) entry(ctx context.Context, dirfd int, dir, name string, l *listing) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rel := path.Join(dir, name)
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, unix.ENOENT) {
			b.warn.add(fmt.Sprintf("%s vanished during the backup", b.full(rel)))
			return nil
		}
		return fmt.Errorf("lstat %s: %w", b.full(rel), err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		l.subdirs = append(l.subdirs, rel)
		b.stats.dirs.Add(1)
		return b.add(ctx, entryFromStat(rel, sources.TypeDir, &st))
	case unix.S_IFLNK:
		return b.symlink(ctx, dirfd, rel, name, &st)
	case unix.S_IFREG:
		return b.file(ctx, rel, &st, l)
	default:
		b.warn.add(fmt.Sprintf("skipped %s: a %s (only files, directories and symlinks are backed up)", b.full(rel), typeName(st.Mode)))
		return nil
	}
}

// symlink adds a symlink with its target as stored (not resolved).
func (b *backup) symlink(ctx context.Context, dirfd int, rel, name string, st *unix.Stat_t) error {
	buf := make([]byte, max(st.Size+1, 256))
	n, err := unix.Readlinkat(dirfd, name, buf)
	if err != nil {
		return fmt.Errorf("readlink %s: %w", b.full(rel), err)
	}
	if n == len(buf) {
		return fmt.Errorf("readlink %s: target grew while being read", b.full(rel))
	}
	e := entryFromStat(rel, sources.TypeSymlink, st)
	e.Target = string(buf[:n])
	b.stats.symlinks.Add(1)
	return b.add(ctx, e)
}

// file keeps an unchanged file by reference or lists it to be read. A
// Writer that compares a whole entry with its previous record (KeepSame)
// is asked first: every field equal, it keeps the file without a Lookup.
// Else a kept file's entry is built only once its fingerprint matched: a
// read file's comes from the fstat of the open file.
func (b *backup) file(ctx context.Context, rel string, st *unix.Stat_t, l *listing) error {
	if n := b.stats.files.Add(1); n%progressEvery == 0 {
		b.w.Report(sources.Event{Step: "files", Done: n})
	}
	if b.keeper != nil {
		kept, err := b.keeper.KeepSame(ctx, entryFromStat(rel, sources.TypeFile, st))
		if err != nil {
			return fmt.Errorf("keep unchanged %s: %w", b.full(rel), err)
		}
		if kept {
			b.stats.kept.Add(1)
			return nil
		}
	}
	var fp [96]byte
	if p, ok := b.prev.Lookup(rel); ok && p.Type == sources.TypeFile && p.Fingerprint == string(appendFingerprint(fp[:0], st)) {
		b.stats.kept.Add(1)
		if err := b.w.Keep(ctx, entryWith(rel, sources.TypeFile, st, p.Fingerprint)); err != nil {
			return fmt.Errorf("keep unchanged %s: %w", b.full(rel), err)
		}
		return nil
	}
	l.files = append(l.files, fileJob{full: b.full(rel), rel: rel, size: st.Size})
	return nil
}

// add stores a directory or symlink entry.
func (b *backup) add(ctx context.Context, e sources.Entry) error {
	if err := b.w.Add(ctx, e, nil); err != nil {
		return fmt.Errorf("add %s: %w", b.full(e.Path), err)
	}
	return nil
}

// full is the on-disk path of rel, for opening and for messages.
func (b *backup) full(rel string) string { return joinPath(b.root, rel) }

func joinPath(root, rel string) string {
	if rel == "" {
		return root
	}
	return root + "/" + rel
}
