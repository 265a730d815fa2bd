package backends

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// StreamPutter is implemented by backends that can take an object written
// piece by piece under a name known only at the end. The store builds its
// 16 MiB packs this way on local disk, where a pack costs no memory while
// it is built or written (buffered packs were half of a backup's heap);
// elsewhere packs are buffered and Put whole, since an upload needs its
// size and a retry needs the bytes.
type StreamPutter interface {
	// CreateDeferred starts an object in dir (a slash path, created if
	// missing), or returns ok=false when this backend buffers instead.
	CreateDeferred(ctx context.Context, dir string) (w ObjectWriter, ok bool, err error)
}

// ObjectWriter is an object being written by StreamPutter.
type ObjectWriter interface {
	// Write appends to the object.
	Write(p []byte) (int, error)
	// Commit publishes what was written as name, as PutDeferred does:
	// complete for readers at once, durable after the backend's Sync.
	Commit(ctx context.Context, name string) error
	// Abort removes what was written; after Commit it does nothing.
	Abort()
}

var _ StreamPutter = (*Remote)(nil)

// CreateDeferred implements StreamPutter for local disk: a temporary file
// in dir (which prune removes if the process dies before Commit).
func (r *Remote) CreateDeferred(_ context.Context, dir string) (ObjectWriter, bool, error) {
	if r.localRoot == "" || !r.viaTemp {
		return nil, false, nil
	}
	if err := checkName(path.Join(dir, "x")); err != nil {
		return nil, false, fmt.Errorf("create in %q of %s: %w", dir, r.location, err)
	}
	osDir := filepath.Join(r.localRoot, filepath.FromSlash(dir))
	if err := os.MkdirAll(osDir, 0o755); err != nil {
		return nil, false, fmt.Errorf("create %s: %w", osDir, err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	tmp := filepath.Join(osDir, tempPrefix+hex.EncodeToString(b[:])+"-stream")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("create temporary object in %s: %w", r.location, err)
	}
	return &localObject{r: r, f: f, tmp: tmp}, true, nil
}

// localObject is a temporary file renamed into place by Commit.
type localObject struct {
	r    *Remote
	f    *os.File
	tmp  string
	done bool
}

func (o *localObject) Write(p []byte) (int, error) {
	n, err := o.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", o.tmp, err)
	}
	return n, nil
}

func (o *localObject) Commit(ctx context.Context, name string) error {
	if o.done {
		return errors.New("commit of a finished object (internal error)")
	}
	if err := checkName(name); err != nil {
		o.Abort()
		return fmt.Errorf("put %q in %s: %w", name, o.r.location, err)
	}
	err := o.f.Close()
	o.f = nil
	if err == nil {
		err = ctx.Err()
	}
	created := firstMissingDir(o.r.localRoot, name)
	dst := filepath.Join(o.r.localRoot, filepath.FromSlash(name))
	if err == nil {
		err = os.MkdirAll(filepath.Dir(dst), 0o755)
	}
	if err == nil {
		err = os.Rename(o.tmp, dst)
	}
	if err != nil {
		o.Abort()
		return fmt.Errorf("put %s in %s: %w", name, o.r.location, err)
	}
	o.done = true
	o.r.addPending(name, created)
	return nil
}

func (o *localObject) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.f != nil {
		o.f.Close()
		o.f = nil
	}
	_ = os.Remove(o.tmp)
}

// CreateDeferred passes through to the wrapped backend; a stream is not
// retried (local disk has no transient errors worth it).
func (r *retrying) CreateDeferred(ctx context.Context, dir string) (ObjectWriter, bool, error) {
	if sp, ok := r.Backend.(StreamPutter); ok {
		return sp.CreateDeferred(ctx, dir)
	}
	return nil, false, nil
}
