package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/bloom"

	"github.com/stratabackup/strata/index/format"
)

// Catalog is the Pebble cache of the backend's indexes and manifests. It
// is the shared one in the cache directory (one process at a time), a
// private snapshot of it, or a Store's view: a view has no database of its
// own and lends each call the Store's snapshot current when the call
// starts (see snapshots), so that a refresh can replace the snapshot
// while reads go on.
type Catalog struct {
	db   *pebble.DB // nil in a view
	dir  string
	opts *pebble.Options // db's, for the tables it ingests
	view *Snapshots
}

// catalogCacheBytes sizes Pebble's block cache. Pebble's default (8 MiB,
// in shards of 2 MiB here) cannot hold the block of a large file record,
// such as a MongoDB .bson with 100,000 extents (~8 MiB of JSON), and the
// Chunk keys that share that block were decompressed again on every
// Lookup (0.8 ms each in a test). Memory is used only as blocks are read.
const catalogCacheBytes = 128 << 20

// catalogOptions are Pebble's options with bloom filters on every level:
// a restore or a mount looks chunks up one at a time by their random ids,
// and without filters each lookup searched every level's table for it.
//
// L0 is compacted at 16 sublevels, not Pebble's 4. The catalog is written
// by short processes, each of which leaves one small level-0 table (its
// last batch, replayed from the log and flushed by the next open) that
// spans from alias to version keys, so each is a sublevel of its own; at
// 4, every other CLI backup waited at exit for a compaction it did not
// need (0.5 s of CPU each on a 290 MB catalog; a one-file backup took
// 0.60-0.76 s instead of 0.15-0.19 s, every other run). At 16, one run in
// ten waited; lookups pass the extra tables by their bloom filters.
func catalogOptions(cache *pebble.Cache) *pebble.Options {
	o := &pebble.Options{Logger: quietLogger{}, Cache: cache, L0CompactionThreshold: 16, L0StopWritesThreshold: 32}
	o.Levels = make([]pebble.LevelOptions, 7)
	for i := range o.Levels {
		o.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	o.EnsureDefaults()
	return o
}

// sessionCacheBytes sizes the block cache of a catalog opened for one
// session (OpenSession): sessions scan (the chunk set, a previous
// version's records), sync and write, reading most blocks once, while
// the mount's and restores' lookups go to read snapshots (Open); the one
// lookup run in a session is a row source's backup finding its previous
// version's chunks (a few thousand per GiB of table).
// With 128 MiB the scans of a 1,000,000-file re-backup filled the cache,
// outside Go's heap, and took its peak RSS past 1 GiB.
const sessionCacheBytes = 16 << 20

// Open opens (creating) the Pebble database in dir. Pebble allows one
// process at a time; others wait here, saying so once, until ctx ends.
func Open(ctx context.Context, dir string, log *slog.Logger) (*Catalog, error) {
	return open(ctx, dir, log, catalogCacheBytes)
}

// OpenSession is Open for one short session of scans and writes, with a
// smaller block cache (sessionCacheBytes).
func OpenSession(ctx context.Context, dir string, log *slog.Logger) (*Catalog, error) {
	return open(ctx, dir, log, sessionCacheBytes)
}

func open(ctx context.Context, dir string, log *slog.Logger, cacheBytes int64) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create catalog dir %s: %w", dir, err)
	}
	warned := false
	for {
		cache := pebble.NewCache(cacheBytes)
		opts := catalogOptions(cache)
		db, err := pebble.Open(dir, opts)
		cache.Unref() // the DB holds its own reference
		if err == nil {
			removeStaleIngests(dir)
			return &Catalog{db: db, dir: dir, opts: opts}, nil
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

// Close closes the catalog's database (not a view's snapshots: see
// Snapshots.Close).
func (c *Catalog) Close() error { return c.db.Close() }

// Generation returns the catalog's generation (nil if never written): two
// catalogs with one generation, a snapshot and what it was copied from,
// hold the same data.
func (c *Catalog) Generation() ([]byte, error) {
	g, _, err := c.get(genKey())
	return g, err
}

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

// reader returns the database a read goes to, and what to call when the
// read is done (a view's snapshot is closed only after its last reader).
func (c *Catalog) reader() (*pebble.DB, func(), error) {
	if c.view == nil {
		return c.db, func() {}, nil
	}
	sn, err := c.view.acquire()
	if err != nil {
		return nil, nil, err
	}
	return sn.cat.db, func() { c.view.release(sn) }, nil
}

// read runs fn on the database a read goes to (see reader): reads that
// must agree, such as an alias and the records it points to, go through
// one call, so that a snapshot replaced meanwhile cannot mix two catalogs.
func (c *Catalog) read(fn func(db *pebble.DB) error) error {
	db, done, err := c.reader()
	if err != nil {
		return err
	}
	defer done()
	return fn(db)
}

// scan calls fn for every key with prefix p, in order.
func (c *Catalog) scan(p []byte, fn func(k, v []byte) error) error {
	return c.read(func(db *pebble.DB) error { return c.scanIn(db, p, fn) })
}

func (c *Catalog) scanIn(db *pebble.DB, p []byte, fn func(k, v []byte) error) error {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return fmt.Errorf("read catalog %s: %w", c.dir, err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		if err := fn(it.Key(), it.Value()); err != nil {
			return err
		}
	}
	return it.Error()
}

func (c *Catalog) get(k []byte) (val []byte, ok bool, err error) {
	err = c.read(func(db *pebble.DB) error {
		val, ok, err = c.getIn(db, k)
		return err
	})
	return val, ok, err
}

func (c *Catalog) getIn(db *pebble.DB, k []byte) ([]byte, bool, error) {
	v, closer, err := db.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read catalog %s: %w", c.dir, err)
	}
	out := append([]byte(nil), v...)
	closer.Close()
	return out, true, nil
}

// filesOf returns the id under which v's file records are: its own, or
// the version's it is an alias of (AddVersionAlias).
func (c *Catalog) filesOf(db *pebble.DB, v format.Version) (vid, error) {
	id := versionID(v.Name)
	to, ok, err := c.getIn(db, aliasKey(id))
	if err != nil || !ok {
		return id, err
	}
	copy(id[:], to)
	return id, nil
}

// scanFiles calls fn for v's file records under the key prefix that
// prefix builds from the id holding them.
func (c *Catalog) scanFiles(v format.Version, prefix func(vid) []byte, fn func(k, v []byte) error) error {
	return c.read(func(db *pebble.DB) error {
		id, err := c.filesOf(db, v)
		if err != nil {
			return err
		}
		return c.scanIn(db, prefix(id), fn)
	})
}

// write applies the batch that fill builds. A view is never written: its
// Snapshots are replaced, not updated, so a reader never sees a half sync.
func (c *Catalog) write(fill func(b *pebble.Batch) error) error {
	return c.writeGen(true, fill)
}

// writeGen is write, setting the generation only when gen: a version's
// file records are invisible until its last batch (the version itself),
// which sets it. A generation key in every batch made each level-0 table
// of a version's records reach up to "g", so that compacting it rewrote
// every kept version's records whose id sorts after it.
func (c *Catalog) writeGen(gen bool, fill func(b *pebble.Batch) error) error {
	if c.db == nil {
		return errViewReadOnly
	}
	b := c.db.NewBatch()
	defer b.Close()
	if err := fill(b); err != nil {
		return err
	}
	if gen {
		if err := b.Set(genKey(), newGen(), nil); err != nil {
			return err
		}
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("write catalog %s: %w", c.dir, err)
	}
	return nil
}

// Chunk returns a chunk's location.
func (c *Catalog) Chunk(id format.ID) (format.BlobLoc, bool, error) {
	v, ok, err := c.get(chunkKey(id))
	if err != nil || !ok {
		return format.BlobLoc{}, ok, err
	}
	return decodeLoc(v), true, nil
}

// Chunks looks up many chunks with one iterator, calling fn with each
// found one, in ascending id order. Pebble builds an iterator stack for
// every Get; seeks in ascending order on one iterator reuse its position,
// which is what makes a batch cheaper (the mount's prefetch locates a
// directory's next files together).
func (c *Catalog) Chunks(ids []format.ID, fn func(format.ID, format.BlobLoc)) error {
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b format.ID) int { return bytes.Compare(a[:], b[:]) })
	db, done, err := c.reader()
	if err != nil {
		return err
	}
	defer done()
	p := kindPrefix(keyChunk)
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return fmt.Errorf("read catalog %s: %w", c.dir, err)
	}
	defer it.Close()
	for _, id := range sorted {
		k := chunkKey(id)
		if it.SeekGE(k) && bytes.Equal(it.Key(), k) {
			fn(id, decodeLoc(it.Value()))
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("read catalog %s: %w", c.dir, err)
	}
	return nil
}

// Versions returns an object's versions, oldest first.
func (c *Catalog) Versions(o format.ObjectRef) ([]format.Version, error) {
	var out []format.Version
	p := objectKeyPrefix(o)
	err := c.scan(p, func(k, v []byte) error {
		if !isVersionKeyIn(k, p) {
			return nil // a nested table's version
		}
		ver, err := decodeVersion(k, v)
		if err != nil {
			return err
		}
		out = append(out, ver)
		return nil
	})
	return out, err
}

// AllVersions returns every version of every object.
func (c *Catalog) AllVersions() ([]format.Version, error) {
	var out []format.Version
	err := c.eachVersion(func(v format.Version) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// eachVersion calls fn with every version of every object, by object and
// then time.
func (c *Catalog) eachVersion(fn func(format.Version) error) error {
	return c.scan(kindPrefix(keyVersion), func(k, v []byte) error {
		ver, err := decodeVersion(k, v)
		if err != nil {
			return err
		}
		return fn(ver)
	})
}

// Objects lists every object with at least one version, sorted.
func (c *Catalog) Objects() ([]format.ObjectRef, error) {
	seen := map[format.ObjectRef]bool{}
	var out []format.ObjectRef
	err := c.eachVersion(func(v format.Version) error {
		if !seen[v.Object] {
			seen[v.Object] = true
			out = append(out, v.Object)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, err
}

func decodeVersion(k, v []byte) (format.Version, error) {
	var ver format.Version
	if err := json.Unmarshal(v, &ver); err != nil {
		return ver, fmt.Errorf("catalog version %q: %w", k, err)
	}
	return ver, nil
}

// ReadDir lists a version directory's children, sorted by raw name.
func (c *Catalog) ReadDir(v format.Version, dir string) ([]format.File, error) {
	var out []format.File
	err := c.scanFiles(v, func(id vid) []byte { return dirPrefix(id, dir) }, func(k, val []byte) error {
		_, name := fileFromKey(k)
		f, err := decodeFileRecord(dir, name, val)
		if err != nil {
			return fmt.Errorf("catalog file %q in %s: %w", name, v.Name, err)
		}
		out = append(out, f)
		return nil
	})
	return out, err
}

// Lookup returns one entry of a version.
func (c *Catalog) Lookup(v format.Version, path string) (format.File, error) {
	if path == "" {
		return format.File{Entry: format.RootEntry(v)}, nil
	}
	dir, name := format.SplitPath(path)
	var val []byte
	var ok bool
	err := c.read(func(db *pebble.DB) error {
		id, err := c.filesOf(db, v)
		if err == nil {
			val, ok, err = c.getIn(db, fileKey(id, dir, name))
		}
		return err
	})
	if err != nil {
		return format.File{}, err
	}
	if !ok {
		return format.File{}, fmt.Errorf("%s in %s: %w", path, v.Name, format.ErrNotFound)
	}
	return decodeFileRecord(dir, name, val)
}

func decodeFileRecord(dir, name string, val []byte) (format.File, error) {
	var m format.FileRecord
	if err := format.DecodeFileRecord(val, &m); err != nil {
		return format.File{}, err
	}
	if dir == "" {
		m.Path = format.RawString(name)
	} else {
		m.Path = format.RawString(dir + "/" + name)
	}
	return m.File(), nil
}

// EachChunk calls fn with every chunk the catalog knows and where it is.
func (c *Catalog) EachChunk(fn func(format.ID, format.BlobLoc)) error {
	return c.scan([]byte{keyChunk}, func(k, v []byte) error {
		fn(chunkFromKey(k), decodeLoc(v))
		return nil
	})
}

// EachFile calls fn with every file record of a version, in key order
// (directory, then name).
func (c *Catalog) EachFile(v format.Version, fn func(format.File)) error {
	return c.scanFiles(v, filesPrefix, func(k, val []byte) error {
		dir, name := fileFromKey(k)
		f, err := decodeFileRecord(dir, name, val)
		if err != nil {
			return fmt.Errorf("catalog file %q: %w", k, err)
		}
		fn(f)
		return nil
	})
}

// EachFileLine is EachFile with each record's stored value: for a
// version whose list was stored as lines (format 4), its line in that
// list. The line is valid only during fn.
func (c *Catalog) EachFileLine(v format.Version, fn func(format.File, []byte)) error {
	return c.scanFiles(v, filesPrefix, func(k, val []byte) error {
		dir, name := fileFromKey(k)
		f, err := decodeFileRecord(dir, name, val)
		if err != nil {
			return fmt.Errorf("catalog file %q: %w", k, err)
		}
		fn(f, val)
		return nil
	})
}

// EachFileRaw calls fn with every file record of a version as stored,
// in key order, undecoded: dir and name from its key and its value (for
// a version whose list was stored as lines, its line in that list). A
// caller that keeps many records (a backup's view of the previous
// version) decodes each only when it needs it. The slices are valid only
// during fn.
func (c *Catalog) EachFileRaw(v format.Version, fn func(dir, name, val []byte) error) error {
	return c.scanFiles(v, filesPrefix, func(k, val []byte) error {
		rest := k[1+len(vid{}):]
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return fmt.Errorf("catalog file key %q has no name", k)
		}
		return fn(rest[:i], rest[i+1:], val)
	})
}

// EachReference calls fn with every chunk reference of every file of
// every version (a chunk shared by several files comes several times).
func (c *Catalog) EachReference(fn func(format.ChunkRef)) error {
	vs, err := c.AllVersions()
	if err != nil {
		return err
	}
	for _, v := range vs {
		for _, r := range v.FileList {
			fn(r)
		}
	}
	return c.scan(kindPrefix(keyFile), func(k, v []byte) error {
		var m format.FileRecord
		if err := format.DecodeFileRecord(v, &m); err != nil {
			return fmt.Errorf("catalog file %q: %w", k, err)
		}
		for _, r := range m.Chunks {
			fn(format.ChunkRef(r))
		}
		return nil
	})
}

// loadedIndexes returns the names of the index files loaded.
func (c *Catalog) loadedIndexes() (map[string]bool, error) { return c.names(kindPrefix(keyIndex)) }

// loadedManifests returns the names of the manifests loaded.
func (c *Catalog) loadedManifests() (map[string]bool, error) { return c.names(kindPrefix(keyManifest)) }

// names returns the backend names in the keys under prefix p (a kind, or
// a kind and the start of a name).
func (c *Catalog) names(p []byte) (map[string]bool, error) {
	out := map[string]bool{}
	err := c.scan(p, func(k, _ []byte) error {
		out[nameFromKey(k)] = true
		return nil
	})
	return out, err
}

// addIndex records an index file's chunk locations and that it is loaded.
func (c *Catalog) addIndex(name string, idx format.IndexFile) error {
	return c.write(func(b *pebble.Batch) error {
		for _, p := range idx.Packs {
			for _, bl := range p.Blobs {
				loc := format.BlobLoc{Pack: p.ID, Type: bl.Type, Offset: bl.Offset, Length: bl.Length, RawLen: bl.RawLen}
				if err := b.Set(chunkKey(bl.ID), encodeLoc(loc), nil); err != nil {
					return err
				}
			}
		}
		return b.Set(indexKey(name), nil, nil)
	})
}

// forgetChunks drops every chunk location and loaded index, to be loaded
// again from the backend's indexes (after a prune rewrote them).
func (c *Catalog) forgetChunks() error {
	return c.write(func(b *pebble.Batch) error {
		for _, kind := range []byte{keyChunk, keyIndex} {
			p := kindPrefix(kind)
			if err := b.DeleteRange(p, prefixEnd(p), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddVersion writes a manifest's version and files into the catalog.
func (c *Catalog) AddVersion(name string, m *format.Manifest) error {
	return c.AddVersionFiles(name, m, len(m.Files), func(i int) (string, []byte, error) {
		v, err := fileValue(m, i)
		return string(m.Files[i].Path), v, err
	})
}

// errViewReadOnly refuses a write to a view (a Store's read snapshots).
var errViewReadOnly = errors.New("catalog view is read-only (internal error)")

// addBatchBytes bounds one catalog batch of file records: a batch is held
// whole in memory (a row source's few files can each have a record of
// megabytes), while committing costs about the same per batch.
const addBatchBytes = 2 << 20

// AddVersionFiles writes a version with n files, file(i) giving each
// one's path and stored value (its file list line), as one ingested
// table (ingest.go) or, below ingestMinFiles, in batches of at most
// addBatchBytes; the version itself is written after, so that it is seen
// only with all its files. A crash in between leaves file records of no
// version, which the next sync's write of the version overwrites.
func (c *Catalog) AddVersionFiles(name string, m *format.Manifest, n int, file func(i int) (path string, value []byte, err error)) error {
	v := m.Version(name)
	id := versionID(name)
	vj, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("catalog version %s: %w", name, err)
	}
	if n >= ingestMinFiles {
		err = c.ingestFiles(id, n, file)
	} else {
		err = c.batchFiles(id, n, file)
	}
	if err != nil {
		return fmt.Errorf("catalog version %s: %w", name, err)
	}
	vk := versionKey(v.Object, v.Time)
	return c.write(func(b *pebble.Batch) error {
		// The version's own records now: an alias left by a version of
		// the same name (dropped, then synced back) must not hide them.
		if err := b.Delete(aliasKey(id), nil); err != nil {
			return err
		}
		if err := b.Set(vk, vj, nil); err != nil {
			return err
		}
		return b.Set(manifestKey(name), manifestValue(id, vk), nil)
	})
}

// batchFiles writes the file records of version id (file(i), n of them)
// in batches of at most addBatchBytes.
func (c *Catalog) batchFiles(id vid, n int, file func(i int) (path string, value []byte, err error)) error {
	for i := 0; i < n; {
		err := c.writeGen(false, func(b *pebble.Batch) error {
			for ; i < n && b.Len() < addBatchBytes; i++ {
				p, val, err := file(i)
				if err != nil {
					return fmt.Errorf("catalog file %s: %w", p, err)
				}
				dir, base := format.SplitPath(p)
				if err := b.Set(fileKey(id, dir, base), val, nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// OwnFiles reports whether v's file records are its own, rather than an
// earlier identical version's (AddVersionAlias): what a re-backup that
// changed nothing cost the catalog.
func (c *Catalog) OwnFiles(v format.Version) (own bool, err error) {
	err = c.read(func(db *pebble.DB) error {
		id, err := c.filesOf(db, v)
		own = id == versionID(v.Name)
		return err
	})
	return own, err
}

// AddVersionAlias writes version name, whose file list is byte for byte
// the list of version of, without file records of its own: its files are
// read from of's records. A re-backup that changed nothing (the common
// case of a cold table or a quiet tree) then adds three keys to the
// catalog instead of a copy of every record: for an 80,000-file tree,
// 13 MB written to Pebble's log, flushed and compacted again, about a
// quarter of such a backup's CPU. It reports false and writes nothing when of is
// not in the catalog; the caller then writes the records
// (AddVersionFiles).
func (c *Catalog) AddVersionAlias(name string, m *format.Manifest, of string) (bool, error) {
	val, ok, err := c.get(manifestKey(of))
	if err != nil || !ok {
		return false, err
	}
	owner, _ := parseManifestValue(val)
	to, ok, err := c.get(aliasKey(owner))
	if err != nil {
		return false, err
	}
	if ok {
		copy(owner[:], to) // of is an alias itself: point at the records
	}
	v := m.Version(name)
	id := versionID(name)
	if id == owner {
		return false, fmt.Errorf("catalog version %s: an alias of itself", name)
	}
	vj, err := json.Marshal(v)
	if err != nil {
		return false, fmt.Errorf("catalog version %s: %w", name, err)
	}
	vk := versionKey(v.Object, v.Time)
	return true, c.write(func(b *pebble.Batch) error {
		if err := b.Set(aliasKey(id), owner[:], nil); err != nil {
			return err
		}
		if err := b.Set(vk, vj, nil); err != nil {
			return err
		}
		return b.Set(manifestKey(name), manifestValue(id, vk), nil)
	})
}

// fileValue is the catalog's record of m's i-th file: its line in the
// file list when the manifest has them (the path in it is ignored: the
// key has it), else the record encoded without its path.
func fileValue(m *format.Manifest, i int) ([]byte, error) {
	if len(m.Lines) == len(m.Files) {
		return m.Lines[i], nil
	}
	mf := m.Files[i]
	mf.Path = ""
	return json.Marshal(mf)
}

// dropVersion removes a version and its files (its manifest is gone).
// Records that aliases still read (AddVersionAlias) stay until the last
// version reading them is dropped.
func (c *Catalog) dropVersion(name string) error {
	val, ok, err := c.get(manifestKey(name))
	if err != nil || !ok {
		return err
	}
	id, vk := parseManifestValue(val)
	owner := id
	to, alias, err := c.get(aliasKey(id))
	if err != nil {
		return err
	}
	if alias {
		copy(owner[:], to)
	}
	used, err := c.recordsUsed(owner, id)
	if err != nil {
		return err
	}
	return c.write(func(b *pebble.Batch) error {
		if alias {
			if err := b.Delete(aliasKey(id), nil); err != nil {
				return err
			}
		}
		if !used {
			fp := filesPrefix(owner)
			if err := b.DeleteRange(fp, prefixEnd(fp), nil); err != nil {
				return err
			}
		}
		if err := b.Delete(vk, nil); err != nil {
			return err
		}
		return b.Delete(manifestKey(name), nil)
	})
}

// recordsUsed reports whether a version other than dropping reads the
// file records held under owner: an alias of them, or the version owner
// itself.
func (c *Catalog) recordsUsed(owner, dropping vid) (bool, error) {
	used := false
	err := c.scan(kindPrefix(keyAlias), func(k, v []byte) error {
		used = used || (!bytes.Equal(k[1:], dropping[:]) && bytes.Equal(v, owner[:]))
		return nil
	})
	if err != nil || used || owner == dropping {
		return used, err
	}
	err = c.scan(kindPrefix(keyManifest), func(_, v []byte) error {
		id, _ := parseManifestValue(v)
		used = used || id == owner
		return nil
	})
	return used, err
}

// NewView returns a catalog without a database of its own whose reads go
// to the current snapshot of ss; name says which catalog in errors.
func NewView(ss *Snapshots, name string) *Catalog { return &Catalog{view: ss, dir: name} }

// Hold pins the snapshot a view reads now and returns a catalog whose
// every read goes to it, until release is called; a catalog that is not
// a view is returned as it is. A reader whose calls must agree needs it:
// each call of a view reads whatever snapshot is current, and a daemon
// replaces it after every backup, so `check`, listing the indexed chunks
// and then the versions that need them, saw a version committed between
// the two calls with chunks it had not listed, and reported them "not in
// any index".
func (c *Catalog) Hold() (held *Catalog, release func(), err error) {
	if c.view == nil {
		return c, func() {}, nil
	}
	sn, err := c.view.acquire()
	if err != nil {
		return nil, nil, err
	}
	var once sync.Once
	return sn.cat, func() { once.Do(func() { c.view.release(sn) }) }, nil
}
