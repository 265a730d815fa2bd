package backends

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/rclone/rclone/fs"
	"github.com/rclone/rclone/fs/object"
)

// tempPrefix starts the base name of every temporary object. Store names
// never start with a dot, and List skips these names.
const tempPrefix = ".strata-tmp-"

// isTempName reports whether name's last element is a temporary object.
func isTempName(name string) bool {
	return strings.HasPrefix(path.Base(name), tempPrefix)
}

// tempName returns a fresh temporary name in name's directory, so that the
// final move is a rename within one directory.
func tempName(name string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	dir, base := path.Split(name)
	return dir + tempPrefix + hex.EncodeToString(b[:]) + "-" + base
}

// Put writes data under name and returns once it is durable. Readers see the
// old object or the whole new one, never a part: object stores publish an
// upload only when complete; file-like stores get a temporary object that
// is fsynced (local disk) and then renamed into place. A cancelled ctx
// leaves no object behind.
func (r *Remote) Put(ctx context.Context, name string, data []byte) error {
	if err := checkName(name); err != nil {
		return fmt.Errorf("put %q in %s: %w", name, r.location, err)
	}
	if !r.viaTemp {
		if _, err := r.upload(ctx, name, data); err != nil {
			return fmt.Errorf("put %s in %s: %w", name, r.location, err)
		}
		return nil
	}
	if err := r.putViaTemp(ctx, name, data, false); err != nil {
		return fmt.Errorf("put %s in %s: %w", name, r.location, err)
	}
	return nil
}

// upload sends data to the store under name, stopping if ctx is cancelled.
func (r *Remote) upload(ctx context.Context, name string, data []byte) (fs.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info := object.NewStaticObjectInfo(name, time.Now(), int64(len(data)), true, nil, r.f)
	return r.f.Put(ctx, newCtxReader(ctx, data), info)
}

// putViaTemp uploads to a temporary name, makes it durable (or, deferred,
// records it for Sync), and moves it over name. On any failure the
// temporary object is removed.
func (r *Remote) putViaTemp(ctx context.Context, name string, data []byte, deferred bool) error {
	tmp := tempName(name)
	created := ""
	if r.localRoot != "" {
		created = firstMissingDir(r.localRoot, name)
	}
	o, err := r.upload(ctx, tmp, data)
	if err == nil && r.localRoot != "" && !deferred {
		err = syncFile(r.localRoot, tmp)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = r.move(ctx, o, name)
	}
	if err != nil {
		r.removeTemp(ctx, o, tmp)
		return err
	}
	if r.localRoot == "" {
		return nil
	}
	if deferred {
		r.addPending(name, created)
		return nil
	}
	return syncDirs(r.localRoot, name, created)
}

// move renames o to name with the store's server-side move.
func (r *Remote) move(ctx context.Context, o fs.Object, name string) error {
	if _, err := r.f.Features().Move(ctx, o, name); err != nil {
		return fmt.Errorf("move %s into place: %w", o.Remote(), err)
	}
	return nil
}

// removeTemp deletes a failed Put's temporary object, even when ctx is
// cancelled; a leftover is invisible to List but wastes space, so it is
// logged.
func (r *Remote) removeTemp(ctx context.Context, o fs.Object, tmp string) {
	ctx = context.WithoutCancel(ctx)
	if o == nil {
		var err error
		if o, err = r.f.NewObject(ctx, tmp); err != nil {
			return
		}
	}
	if err := o.Remove(ctx); err != nil {
		fs.Errorf(nil, "strata: remove temporary object %s in %s: %v", tmp, r.location, err)
	}
}
