package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
)

// LocalReader is implemented by backends whose objects may be files on
// this machine. A mount reading 80,000 small files made one generic Get
// per file, and each cost rclone's lookup, an lstat, an open and a seek:
// a third of the mount's time. A local read is one open and one pread.
type LocalReader interface {
	// ReadUpTo reads at most n bytes of name from off: fewer at the
	// object's end, none past it. ok is false when the backend is not on
	// local disk; the caller then uses Get.
	ReadUpTo(ctx context.Context, name string, off int64, n int) (data []byte, ok bool, err error)
	// Local reports whether ReadUpTo reads local files: readers size
	// their read-ahead by it (a local read costs no round trip).
	Local() bool
}

var _ LocalReader = (*Remote)(nil)

// Local implements LocalReader.
func (r *Remote) Local() bool { return r.localRoot != "" }

// ReadUpTo implements LocalReader.
func (r *Remote) ReadUpTo(ctx context.Context, name string, off int64, n int) ([]byte, bool, error) {
	if r.localRoot == "" {
		return nil, false, nil
	}
	if err := checkName(name); err != nil {
		return nil, true, fmt.Errorf("get %q in %s: %w", name, r.location, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, true, fmt.Errorf("get %s in %s: %w", name, r.location, err)
	}
	if off < 0 || n < 0 {
		return nil, true, fmt.Errorf("get %s from %s: range %d+%d is negative", name, r.location, off, n)
	}
	f, err := os.Open(filepath.Join(r.localRoot, filepath.FromSlash(name)))
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, true, fmt.Errorf("get %s in %s: %w", name, r.location, ErrNotFound)
	}
	if err != nil {
		return nil, true, fmt.Errorf("get %s in %s: %w", name, r.location, err)
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, off)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, true, fmt.Errorf("get %s from %s at %d: %w", name, r.location, off, err)
	}
	return buf[:k], true, nil
}

// Local reports whether the wrapped backend reads local files.
func (r *retrying) Local() bool {
	lr, ok := r.Backend.(LocalReader)
	return ok && lr.Local()
}

// ReadUpTo retries the wrapped backend's ReadUpTo; ok is false when it
// has none.
func (r *retrying) ReadUpTo(ctx context.Context, name string, off int64, n int) ([]byte, bool, error) {
	lr, ok := r.Backend.(LocalReader)
	if !ok {
		return nil, false, nil
	}
	var data []byte
	err := r.do(ctx, func() error {
		var err error
		data, ok, err = lr.ReadUpTo(ctx, name, off, n)
		return err
	})
	return data, ok, err
}
