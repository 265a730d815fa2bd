package fs

import (
	"context"

	"github.com/stratabackup/strata/index"
)

// Catalog is what the mounted tree needs of the store. *index.Store
// implements it; tests use a fake. Every method is safe for concurrent use.
// Errors that wrap index.ErrNotFound become ENOENT.
type Catalog interface {
	// Objects lists every object that has at least one version.
	Objects(ctx context.Context) ([]index.ObjectRef, error)
	// Versions lists an object's versions, oldest first.
	Versions(ctx context.Context, obj index.ObjectRef) ([]index.Version, error)
	// ReadDir lists the direct children of dir ("" is the version root),
	// sorted by raw name.
	ReadDir(ctx context.Context, v index.Version, dir string) ([]index.File, error)
	// Lookup returns the entry at path ("" is the root directory).
	Lookup(ctx context.Context, v index.Version, path string) (index.File, error)
	// OpenFile returns a reader of f's content. The reader verifies every
	// chunk's hash, caches decoded chunks and reads ahead when reads are
	// sequential.
	OpenFile(f index.File) FileReader
	// Diff returns what changed in (from, to]. from is nil for "since the
	// beginning". The result is a version-like tree readable with ReadDir,
	// Lookup and OpenFile, plus the removed paths.
	Diff(ctx context.Context, from *index.Version, to index.Version) (index.DiffResult, error)
}

// FileReader reads one file's content at any offset.
type FileReader interface {
	ReadAt(ctx context.Context, p []byte, off int64) (int, error)
	Close() error
}
