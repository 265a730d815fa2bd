package fs

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	"github.com/stratabackup/strata/index"
)

// isNotFound reports whether err means the thing asked for does not exist.
func isNotFound(err error) bool { return errors.Is(err, index.ErrNotFound) }

// toErrno turns a Catalog error into the errno a node returns: not found
// is ENOENT, a cancelled request EINTR, anything else is logged and EIO.
func toErrno(log *slog.Logger, op string, err error) syscall.Errno {
	switch {
	case err == nil:
		return 0
	case isNotFound(err):
		return syscall.ENOENT
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	}
	log.Error("mount: "+op, "err", err)
	return syscall.EIO
}
