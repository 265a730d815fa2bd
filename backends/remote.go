package backends

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/rclone/rclone/fs"
)

// Remote is the Backend over one rclone Fs. Object names map to paths below
// the Fs root unchanged.
type Remote struct {
	f        fs.Fs
	location string // for messages, secrets removed
	// viaTemp makes Put write a temporary object and move it into place,
	// for file-like stores (local disk, sftp, webdav) where a plain upload
	// is visible while it is being written. Object stores publish a PUT
	// only when it is complete, so they write directly.
	viaTemp bool
	// localRoot is the OS directory of a local-disk Fs, used to fsync; it
	// is empty for every other store.
	localRoot string
	// noDirect is set once the local filesystem refused O_DIRECT
	// (ReadAround then reads through the page cache).
	noDirect atomic.Bool
	// pending are PutDeferred objects not yet fsynced (local disk only).
	pendMu  sync.Mutex
	pending []pendingPut
}

var _ Backend = (*Remote)(nil)

// newRemote wraps f, choosing how Put publishes objects from f's features.
func newRemote(f fs.Fs, location string) *Remote {
	feat := f.Features()
	r := &Remote{f: f, location: location}
	r.viaTemp = !feat.BucketBased && feat.Move != nil
	if feat.IsLocal {
		r.localRoot = f.Root()
	}
	return r
}

// Location names the backend for messages, without secrets.
func (r *Remote) Location() string { return r.location }

// Stat returns the object's size and modification time.
func (r *Remote) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	o, err := r.object(ctx, "stat", name)
	if err != nil {
		return ObjectInfo{}, err
	}
	return ObjectInfo{Name: name, Size: o.Size(), ModTime: o.ModTime(ctx)}, nil
}

// Delete removes the object; a missing object gives ErrNotFound.
func (r *Remote) Delete(ctx context.Context, name string) error {
	o, err := r.object(ctx, "delete", name)
	if err != nil {
		return err
	}
	if err := o.Remove(ctx); err != nil {
		return r.wrap("delete", name, err)
	}
	return nil
}

// Get returns length bytes of name from off (length < 0: to the end). It
// asks the store for that range only, so a small read of a big pack moves
// only the bytes asked for.
func (r *Remote) Get(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	o, err := r.object(ctx, "get", name)
	if err != nil {
		return nil, err
	}
	// Size is -1 when the store did not report it (e.g. S3 with
	// no_head_object); the store then checks the range itself.
	size := o.Size()
	if off < 0 || (size >= 0 && (off > size || (length >= 0 && off+length > size))) {
		return nil, fmt.Errorf("get %s from %s: range %d+%d outside object of %d bytes", name, r.location, off, length, size)
	}
	if length == 0 || off == size {
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	var opts []fs.OpenOption
	if off > 0 || length >= 0 {
		end := int64(-1)
		if length >= 0 {
			end = off + length - 1
		}
		opts = append(opts, &fs.RangeOption{Start: off, End: end})
	}
	rc, err := o.Open(ctx, opts...)
	if err != nil {
		return nil, r.wrap("get", name, err)
	}
	return rc, nil
}

// object finds name, mapping rclone's not-found errors to ErrNotFound.
func (r *Remote) object(ctx context.Context, op, name string) (fs.Object, error) {
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("%s %q in %s: %w", op, name, r.location, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s %s in %s: %w", op, name, r.location, err)
	}
	o, err := r.f.NewObject(ctx, name)
	if err != nil {
		return nil, r.wrap(op, name, err)
	}
	return o, nil
}

// wrap names the operation, object and backend in err, and turns rclone's
// not-found errors into ErrNotFound so callers can test with errors.Is.
func (r *Remote) wrap(op, name string, err error) error {
	if isNotFound(err) {
		return fmt.Errorf("%s %s in %s: %w", op, name, r.location, ErrNotFound)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, r.location, err)
}

// isNotFound reports whether err is one of rclone's ways of saying the
// object is not there. A directory in the object's place counts too: to
// strata that name holds no object. So does a local file removed between
// finding and opening it (another process deleting a lock object).
func isNotFound(err error) bool {
	return errors.Is(err, iofs.ErrNotExist) ||
		errors.Is(err, fs.ErrorObjectNotFound) ||
		errors.Is(err, fs.ErrorDirNotFound) ||
		errors.Is(err, fs.ErrorIsDir) ||
		errors.Is(err, fs.ErrorNotAFile)
}

// checkName rejects names that would escape the root or clash with
// temporary objects.
func checkName(name string) error {
	switch {
	case name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
		return errors.New("invalid object name")
	case path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../"):
		return errors.New("object name not in clean form")
	case isTempName(name):
		return fmt.Errorf("object name uses the reserved prefix %q", tempPrefix)
	}
	return nil
}
