// Package backends stores named byte objects on local disks or any rclone
// remote. It knows nothing of strata's store format: names are opaque
// slash-separated paths such as "packs/ab/ab12…", and objects are immutable
// once written.
package backends

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned (wrapped) by Get, Stat and Delete when the named
// object does not exist. Test with errors.Is.
var ErrNotFound = errors.New("object not found")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Name    string // full name relative to the backend root, slash separated
	Size    int64
	ModTime time.Time
}

// Backend is the seam between the store and where its bytes live. Every
// method is safe for concurrent use. Implementations must make Put atomic:
// a reader sees either no object or the whole object, never a partial one,
// because the store's crash safety ("a version appears only when complete")
// rests on it.
type Backend interface {
	// Put writes data under name, replacing any object of that name, and
	// returns only once the object is durable (fsynced for local disks).
	Put(ctx context.Context, name string, data []byte) error
	// Get returns length bytes starting at off; length < 0 means to the end.
	// The caller must close the reader.
	Get(ctx context.Context, name string, off, length int64) (io.ReadCloser, error)
	// List calls fn for every object whose name starts with prefix (a
	// directory-like prefix such as "packs/" or "versions/c/db/"), in no
	// particular order. An error from fn stops the listing and is returned.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Stat returns the object's size and time.
	Stat(ctx context.Context, name string) (ObjectInfo, error)
	// Delete removes the object; deleting a missing object returns ErrNotFound.
	Delete(ctx context.Context, name string) error
	// Location names the backend for messages, without secrets.
	Location() string
}
