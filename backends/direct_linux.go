package backends

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// directAlign is the alignment O_DIRECT asks of offsets, lengths and
// buffers: the page size covers every logical block size in use.
const directAlign = 4096

// readDirect reads at most n bytes of the file at p from off with
// O_DIRECT: the aligned span around them goes from disk into a buffer of
// ours, without a copy in the page cache. errDirectRefused says the
// filesystem has no O_DIRECT (tmpfs refuses the open, others the read).
func readDirect(p string, off int64, n int) ([]byte, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_DIRECT, 0)
	if errors.Is(err, unix.EINVAL) {
		return nil, errDirectRefused
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: p, Err: err}
	}
	defer unix.Close(fd)
	start := off &^ (directAlign - 1)
	end := (off + int64(n) + directAlign - 1) &^ (directAlign - 1)
	span := int(end - start)
	raw := make([]byte, span+directAlign)
	skip := int((directAlign - uintptr(unsafe.Pointer(&raw[0]))%directAlign) % directAlign)
	buf := raw[skip : skip+span]
	k := 0
	for k < span {
		m, err := unix.Pread(fd, buf[k:], start+int64(k))
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if errors.Is(err, unix.EINVAL) && k == 0 {
			return nil, errDirectRefused
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: p, Err: err}
		}
		if m == 0 {
			break
		}
		k += m
	}
	lo := int(off - start)
	if k <= lo {
		return nil, nil
	}
	hi := min(k, lo+n)
	return buf[lo:hi:hi], nil
}
