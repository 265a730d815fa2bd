package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"
)

// catalog is the Pebble cache of the backend's indexes and manifests.
type catalog struct {
	db  *pebble.DB
	dir string
}

// catalogCacheBytes sizes Pebble's block cache. Pebble's default (8 MiB,
// in shards of 2 MiB here) cannot hold the block of a large file record,
// such as a MongoDB .bson with 100,000 extents (~8 MiB of JSON), and the
// chunk keys that share that block were decompressed again on every
// lookup (0.8 ms each in a test). Memory is used only as blocks are read.
const catalogCacheBytes = 128 << 20

// openCatalog opens (creating) the Pebble database in dir. Pebble allows one
// process at a time; others wait here, saying so once, until ctx ends.
func openCatalog(ctx context.Context, dir string, log *slog.Logger) (*catalog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create catalog dir %s: %w", dir, err)
	}
	warned := false
	for {
		cache := pebble.NewCache(catalogCacheBytes)
		db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}, Cache: cache})
		cache.Unref() // the DB holds its own reference
		if err == nil {
			return &catalog{db: db, dir: dir}, nil
		}
		if !isLockHeld(err) {
			return nil, fmt.Errorf("open catalog %s: %w (it is a cache: `strata index rebuild` recreates it)", dir, err)
		}
		if !warned {
			log.Info("catalog is in use by another strata process; waiting", "dir", dir)
			warned = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("open catalog %s: in use by another process: %w", dir, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (c *catalog) close() error { return c.db.Close() }

// isLockHeld recognises Pebble's failure to take its LOCK file because
// another process holds it: fcntl's EAGAIN (or EACCES on some systems).
func isLockHeld(err error) bool {
	return errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) ||
		strings.Contains(err.Error(), "resource temporarily unavailable") || strings.Contains(err.Error(), "lock held")
}

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// scan calls fn for every key with prefix p, in order.
func (c *catalog) scan(p []byte, fn func(k, v []byte) error) error {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

func (c *catalog) get(k []byte) ([]byte, bool, error) {
	v, closer, err := c.db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// chunk returns a chunk's location.
func (c *catalog) chunk(id ID) (BlobLoc, bool, error) {
	v, ok, err := c.get(chunkKey(id))
	if err != nil || !ok {
		return BlobLoc{}, ok, err
	}
	return decodeLoc(v), true, nil
}

// versions returns an object's versions, oldest first.
func (c *catalog) versions(o ObjectRef) ([]Version, error) {
	var out []Version
	err := c.scan(objectKeyPrefix(o), func(k, v []byte) error {
		// The prefix of a nested table ("a" vs "a/b") also matches deeper
		// tables: keep only keys with exactly 8 bytes after the prefix.
		if len(k) != len(objectKeyPrefix(o))+8 {
			return nil
		}
		var ver Version
		if err := json.Unmarshal(v, &ver); err != nil {
			return fmt.Errorf("catalog version %q: %w", k, err)
		}
		out = append(out, ver)
		return nil
	})
	return out, err
}

// allVersions returns every version of every object.
func (c *catalog) allVersions() ([]Version, error) {
	var out []Version
	err := c.scan([]byte{keyVersion}, func(k, v []byte) error {
		var ver Version
		if err := json.Unmarshal(v, &ver); err != nil {
			return fmt.Errorf("catalog version %q: %w", k, err)
		}
		out = append(out, ver)
		return nil
	})
	return out, err
}

// readDir lists a version directory's children, sorted by raw name.
func (c *catalog) readDir(v Version, dir string) ([]File, error) {
	id := versionID(v.Name)
	p := dirPrefix(id, dir)
	var out []File
	err := c.scan(p, func(k, val []byte) error {
		f, err := decodeFileRecord(dir, string(k[len(p):]), val)
		if err != nil {
			return fmt.Errorf("catalog file %q in %s: %w", k[len(p):], v.Name, err)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// lookup returns one entry of a version.
func (c *catalog) lookup(v Version, path string) (File, error) {
	if path == "" {
		return File{Entry: rootEntry(v)}, nil
	}
	dir, name := splitPath(path)
	val, ok, err := c.get(fileKey(versionID(v.Name), dir, name))
	if err != nil {
		return File{}, err
	}
	if !ok {
		return File{}, fmt.Errorf("%s in %s: %w", path, v.Name, ErrNotFound)
	}
	return decodeFileRecord(dir, name, val)
}

func decodeFileRecord(dir, name string, val []byte) (File, error) {
	var m mfile
	if err := json.Unmarshal(val, &m); err != nil {
		return File{}, err
	}
	if dir == "" {
		m.Path = rawString(name)
	} else {
		m.Path = rawString(dir + "/" + name)
	}
	return m.file(), nil
}

// eachChunk calls fn with every chunk the catalog knows and where it is.
func (c *catalog) eachChunk(fn func(ID, BlobLoc)) error {
	return c.scan([]byte{keyChunk}, func(k, v []byte) error {
		fn(chunkFromKey(k), decodeLoc(v))
		return nil
	})
}

// eachFile calls fn with every file record of a version, in key order
// (directory, then name).
func (c *catalog) eachFile(v vid, fn func(File)) error {
	return c.scan(filesPrefix(v), func(k, val []byte) error {
		dir, name := fileFromKey(k)
		f, err := decodeFileRecord(dir, name, val)
		if err != nil {
			return fmt.Errorf("catalog file %q: %w", k, err)
		}
		fn(f)
		return nil
	})
}
