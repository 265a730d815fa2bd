package index

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// restoreRoot is a restore's target directory, held open: every entry
// is created, changed or removed relative to a directory opened beneath
// it without following any symlink. The plan already refused paths that
// leave the target and entries inside stored symlinks, but the target is
// a live directory: a symlink the restore itself wrote, or one put there
// between the plan and the writes, must not carry a write outside it.
type restoreRoot struct {
	fd   int
	path string
}

// openRestoreRoot opens target, the directory the user named (a symlink
// given as the target itself is followed, as cp and tar do).
func openRestoreRoot(target string) (*restoreRoot, error) {
	fd, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("restore: open %s: %w", target, err)
	}
	return &restoreRoot{fd: fd, path: target}, nil
}

func (r *restoreRoot) close() { _ = unix.Close(r.fd) }

// join is the display path of rel under the target.
func (r *restoreRoot) join(rel string) string { return restoreTarget{target: r.path}.join(rel) }

// noOpenat2 is set once openat2 turns out missing (kernels before 5.6, or
// a seccomp filter that refuses it): directories are then opened one
// component at a time.
var noOpenat2 atomic.Bool

// openDir opens the directory rel ("" for the target) beneath the
// target, refusing any symlink on the way (ELOOP) and any path that
// would leave it (EXDEV).
func (r *restoreRoot) openDir(rel string) (int, error) {
	if rel == "" {
		return r.openDirWalk(rel)
	}
	if !noOpenat2.Load() {
		how := &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		for range 3 {
			fd, err := unix.Openat2(r.fd, rel, how)
			switch {
			case err == nil:
				return fd, nil
			case errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EPERM):
				noOpenat2.Store(true)
				return r.openDirWalk(rel)
			case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
				continue // a rename raced the lookup
			}
			return -1, r.dirError(rel, err)
		}
	}
	return r.openDirWalk(rel)
}

// openDirWalk opens rel one component at a time, each with O_NOFOLLOW
// and O_DIRECTORY relative to the one before: what openat2's
// RESOLVE_NO_SYMLINKS does, in one call per component.
func (r *restoreRoot) openDirWalk(rel string) (int, error) {
	const flags = unix.O_RDONLY | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC
	fd, err := unix.Openat(r.fd, ".", flags, 0)
	if err != nil {
		return -1, r.dirError("", err)
	}
	if rel == "" {
		return fd, nil
	}
	for c := range strings.SplitSeq(rel, "/") {
		if c == "" || c == "." || c == ".." {
			_ = unix.Close(fd)
			return -1, r.dirError(rel, unix.EXDEV)
		}
		next, err := unix.Openat(fd, c, flags, 0)
		_ = unix.Close(fd)
		if err != nil {
			return -1, r.dirError(rel, err)
		}
		fd = next
	}
	return fd, nil
}

func (r *restoreRoot) dirError(rel string, err error) error {
	switch {
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("open directory %s: a symlink or file is in the way (restore follows no symlink inside the target): %w", r.join(rel), err)
	case errors.Is(err, unix.EXDEV):
		return fmt.Errorf("open directory %s: it leads outside the target %s: %w", r.join(rel), r.path, err)
	}
	return fmt.Errorf("open directory %s: %w", r.join(rel), err)
}

// mkdir creates the directory rel (private until finishDir), or accepts
// it when it is there as a directory.
func (r *restoreRoot) mkdir(rel string) error {
	if rel == "" {
		return nil // the target, made by prepare
	}
	dir, name := splitRel(rel)
	dfd, err := r.openDir(dir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer unix.Close(dfd)
	err = unix.Mkdirat(dfd, name, 0o700)
	if errors.Is(err, unix.EEXIST) {
		var st unix.Stat_t
		if err = unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return fmt.Errorf("restore: create directory %s: a symlink or file is in the way (restore follows no symlink inside the target)", r.join(rel))
		}
	}
	if err != nil {
		return fmt.Errorf("restore: create directory %s: %w", r.join(rel), err)
	}
	return nil
}

// removeTemporaries deletes a killed restore's leftovers in the
// directory rel.
func (r *restoreRoot) removeTemporaries(rel string) error {
	fd, err := r.openDir(rel)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	d := os.NewFile(uintptr(fd), r.join(rel))
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("restore: list %s: %w", r.join(rel), err)
	}
	for _, n := range names {
		if isTempName(n) {
			if err := unix.Unlinkat(fd, n, 0); err != nil && !errors.Is(err, unix.ENOENT) {
				return fmt.Errorf("restore: remove leftover %s: %w", r.join(rel+"/"+n), err)
			}
		}
	}
	return nil
}

// finishDir gives a restored directory its owner, then its mode (a chown
// clears setuid and setgid bits, so it comes first), then its times,
// through one descriptor opened without following symlinks.
func (r *restoreRoot) finishDir(d File, rel string, own *owners) error {
	fd, err := r.openDir(rel)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer unix.Close(fd)
	dst := r.join(rel)
	own.apply(d, dst, func(uid, gid int) error { return unix.Fchown(fd, uid, gid) })
	if err := unix.Fchmod(fd, d.Mode&0o7777); err != nil {
		return fmt.Errorf("restore: chmod %s: %w", dst, err)
	}
	if err := futimens(fd, timespecs(d.ModTime)); err != nil {
		return fmt.Errorf("restore: set times of %s: %w", dst, err)
	}
	return nil
}

// timespecs are the access and modification times to give an entry
// modified at t; a zero t leaves them as they are.
func timespecs(t time.Time) []unix.Timespec {
	if t.IsZero() {
		omit := unix.Timespec{Nsec: unix.UTIME_OMIT}
		return []unix.Timespec{omit, omit}
	}
	ts := unix.NsecToTimespec(t.UnixNano())
	return []unix.Timespec{ts, ts}
}

// futimens sets the times of the open fd, to the nanosecond
// (x/sys/unix offers only Futimes, to the microsecond, and utimensat with
// an empty path needs AT_EMPTY_PATH, Linux 5.8 and later).
func futimens(fd int, ts []unix.Timespec) error {
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// timesAt sets the times of name in dfd itself, a symlink's included.
func timesAt(dfd int, name string, t time.Time) error {
	return unix.UtimesNanoAt(dfd, name, timespecs(t), unix.AT_SYMLINK_NOFOLLOW)
}
