package catalog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// Sync brings the catalog up to date with the backend: loads index files
// and manifests it has not seen and drops versions whose manifest is gone
// (forgotten elsewhere). If an index file it had loaded is gone (prune
// rewrote the indexes), chunk locations are reloaded from scratch.
func (c *Catalog) Sync(ctx context.Context, be backends.Backend) error {
	if err := c.syncIndexes(ctx, be); err != nil {
		return err
	}
	return c.syncVersions(ctx, be)
}

func (c *Catalog) syncIndexes(ctx context.Context, be backends.Backend) error {
	onBackend, err := format.ListNames(ctx, be, "indexes/")
	if err != nil {
		return err
	}
	loaded, err := c.loadedIndexes()
	if err != nil {
		return err
	}
	damaged, err := c.syncDamaged("indexes/", onBackend)
	if err != nil {
		return err
	}
	for name := range loaded {
		if !onBackend[name] {
			// An index was removed (prune): chunk locations may be stale.
			if err := c.forgetChunks(); err != nil {
				return err
			}
			loaded = map[string]bool{}
			break
		}
	}
	var todo []string
	for name := range onBackend {
		if !loaded[name] && !damaged[name] {
			todo = append(todo, name)
		}
	}
	return format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		idx, err := format.ReadIndexFile(ctx, be, name)
		if err != nil {
			return c.unloadable(name, nil, err)
		}
		return c.addIndex(name, idx)
	})
}

// syncDamaged drops the damaged records under prefix whose objects left
// the backend and returns the names of those that remain: they are not
// loaded again (a rebuild tries).
func (c *Catalog) syncDamaged(prefix string, onBackend map[string]bool) (map[string]bool, error) {
	damaged, err := c.damagedNames(prefix)
	if err != nil {
		return nil, err
	}
	for name := range damaged {
		if !onBackend[name] {
			if err := c.dropDamaged(name); err != nil {
				return nil, err
			}
			delete(damaged, name)
		}
	}
	return damaged, nil
}

// unloadable decides what an error loading the backend object name means
// for the sync: gone since the listing (a concurrent forget or prune) is
// nothing; damaged bytes are recorded (with the file list's chunks, if
// known) and the sync goes on; anything else (an unreachable backend)
// fails it.
func (c *Catalog) unloadable(name string, list []format.ChunkRef, err error) error {
	switch {
	case errors.Is(err, backends.ErrNotFound) && list == nil:
		return nil
	case isDamage(err):
		return c.addDamaged(Damaged{Name: name, Problem: err.Error(), FileList: list})
	default:
		return err
	}
}

func (c *Catalog) syncVersions(ctx context.Context, be backends.Backend) error {
	onBackend, err := format.ListNames(ctx, be, "versions/")
	if err != nil {
		return err
	}
	loaded, err := c.loadedManifests()
	if err != nil {
		return err
	}
	damaged, err := c.syncDamaged("versions/", onBackend)
	if err != nil {
		return err
	}
	for name := range loaded {
		if !onBackend[name] {
			if err := c.dropVersion(name); err != nil {
				return err
			}
		}
	}
	var todo []string
	for name := range onBackend {
		if !loaded[name] && !damaged[name] && !strings.Contains(name[strings.LastIndexByte(name, '/')+1:], ".tmp") {
			todo = append(todo, name)
		}
	}
	return c.loadVersions(ctx, be, todo)
}

// loadVersions adds the manifests named todo. A version whose file list
// is, chunk for chunk, one already loaded (or loaded by this call) shares
// its records instead of fetching the list again: a rebuild of a table
// backed up daily without change fetches and stores its list once. The
// manifests are read first, so that which version of such a group holds
// the records (the oldest new one) does not depend on timing; those from
// before format 4, with their files inline, are added as they are read.
func (c *Catalog) loadVersions(ctx context.Context, be backends.Backend, todo []string) error {
	ms, err := c.readManifests(ctx, be, todo)
	if err != nil || len(ms) == 0 {
		return err // nothing new: no index of the loaded lists either
	}
	lists, err := c.listsLoaded()
	if err != nil {
		return err
	}
	todo = slices.Sorted(maps.Keys(ms))
	var load []string
	aliasOf := map[string]string{}
	for _, name := range todo {
		refs := ms[name].FileList.Refs()
		if of, ok := lists.find(refs); ok {
			aliasOf[name] = of
			continue
		}
		lists.add(refs, name)
		load = append(load, name)
	}
	var resync sync.Mutex
	loadOne := func(ctx context.Context, name string) error { return c.loadWithList(ctx, be, name, ms[name], &resync) }
	if err := format.Parallel(ctx, load, loadOne); err != nil {
		return err
	}
	for _, name := range todo {
		of, ok := aliasOf[name]
		if !ok {
			continue
		}
		if ok, err := c.AddVersionAlias(name, ms[name], of); err != nil {
			return err
		} else if !ok {
			if err := loadOne(ctx, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// readManifests reads the manifests named todo and returns those with a
// file list; the others (before format 4, files inline) it adds as they
// are read.
func (c *Catalog) readManifests(ctx context.Context, be backends.Backend, todo []string) (map[string]*format.Manifest, error) {
	var mu sync.Mutex
	ms := map[string]*format.Manifest{}
	err := format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		m, err := format.ReadManifest(ctx, be, name)
		if err != nil {
			return c.unloadable(name, nil, err)
		}
		if len(m.FileList) == 0 {
			if err := checkPaths(m); err != nil {
				return c.unloadable(name, nil, fmt.Errorf("manifest %s: %w", name, err))
			}
			return c.AddVersion(name, m)
		}
		mu.Lock()
		ms[name] = m
		mu.Unlock()
		return nil
	})
	return ms, err
}

// loadWithList fetches m's file list and adds the version with its
// records. resync serializes the index syncs of concurrent loads.
func (c *Catalog) loadWithList(ctx context.Context, be backends.Backend, name string, m *format.Manifest, resync *sync.Mutex) error {
	var err error
	m.Files, m.Lines, err = c.readFileList(ctx, be, m.FileList.Refs())
	if errors.Is(err, errChunkUnindexed) {
		// Written by another host after this sync listed the indexes:
		// its index is on the backend by now (a manifest is written
		// after it).
		resync.Lock()
		err = c.syncIndexes(ctx, be)
		resync.Unlock()
		if err == nil {
			m.Files, m.Lines, err = c.readFileList(ctx, be, m.FileList.Refs())
		}
	}
	if err == nil {
		err = checkPaths(m)
	}
	if err != nil {
		return c.unloadable(name, m.FileList.Refs(), fmt.Errorf("manifest %s: %w", name, err))
	}
	err = c.AddVersion(name, m)
	m.Files, m.Lines = nil, nil
	return err
}

// loadedLists finds a loaded version by its file list's chunks.
type loadedLists map[string]string // listKey -> version name

// listsLoaded indexes the catalog's versions by their file lists.
func (c *Catalog) listsLoaded() (loadedLists, error) {
	l := loadedLists{}
	vs, err := c.AllVersions()
	for _, v := range vs {
		l.add(v.FileList, v.Name)
	}
	return l, err
}

func (l loadedLists) add(refs []format.ChunkRef, name string) {
	if len(refs) > 0 {
		l[listKey(refs)] = name
	}
}

func (l loadedLists) find(refs []format.ChunkRef) (string, bool) {
	if len(refs) == 0 {
		return "", false
	}
	name, ok := l[listKey(refs)]
	return name, ok
}

// listKey identifies a file list by its chunk references.
func listKey(refs []format.ChunkRef) string {
	b := make([]byte, 0, len(refs)*(len(format.ID{})+8))
	for _, r := range refs {
		b = append(b, r.ID[:]...)
		b = binary.BigEndian.AppendUint32(b, r.Size)
		b = binary.BigEndian.AppendUint32(b, r.Off)
	}
	return string(b)
}

// errChunkUnindexed is a file list chunk the catalog has no location for.
var errChunkUnindexed = errors.New("is in no index")

// readFileList fetches and decodes a format-4 manifest's file list from
// its chunks, which the indexes (synced first) locate. The chunks of one
// list were stored one after another, so neighbours in one pack are read
// with one request: a remote store then costs a few reads per version.
func (c *Catalog) readFileList(ctx context.Context, be backends.Backend, refs []format.ChunkRef) ([]format.FileRecord, [][]byte, error) {
	locs := make([]format.BlobLoc, len(refs))
	for i, r := range refs {
		loc, ok, err := c.Chunk(r.ID)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("file list chunk %s %w", r.ID, errChunkUnindexed)
		}
		locs[i] = loc
	}
	var data []byte
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && locs[j].Pack == locs[i].Pack && locs[j].Offset == locs[j-1].Offset+locs[j-1].Length {
			j++
		}
		start, end := int64(locs[i].Offset), int64(locs[j-1].Offset)+int64(locs[j-1].Length)
		span, err := format.ReadRange(ctx, be, format.PackName(locs[i].Pack), start, end-start)
		if err != nil {
			return nil, nil, fmt.Errorf("file list chunk %s: %w", refs[i].ID, truncated(ctx, be, format.PackName(locs[i].Pack), end, err))
		}
		for k := i; k < j; k++ {
			r, loc := refs[k], locs[k]
			blob := span[int64(loc.Offset)-start : int64(loc.Offset)-start+int64(loc.Length)]
			chunk, err := format.DecodeBlob(r.ID, loc.Type, blob, int(loc.RawLen))
			if err != nil {
				return nil, nil, fmt.Errorf("file list: %w", err)
			}
			if int(r.Off)+int(r.Size) > len(chunk) {
				return nil, nil, fmt.Errorf("file list chunk %s: reference past its %d bytes: %w", r.ID, len(chunk), format.ErrCorrupt)
			}
			data = append(data, chunk[r.Off:r.Off+r.Size]...)
		}
		i = j
	}
	return format.DecodeFileList(data)
}

// truncated tells a failed read of a pack shorter than the index says
// (damage: a copy cut off, a full disk) from a read that failed in
// transit, whose err stays: the pack's size decides.
func truncated(ctx context.Context, be backends.Backend, pack string, end int64, err error) error {
	if isDamage(err) || ctx.Err() != nil {
		return err
	}
	oi, serr := be.Stat(ctx, pack)
	if serr != nil || oi.Size >= end {
		return err
	}
	return fmt.Errorf("%s holds %d bytes, the index says %d or more: %w", pack, oi.Size, end, format.ErrCorrupt)
}

// checkPaths refuses a manifest with a path a backup would never have
// written (sources.CheckPath: "..", ".", empty components, NUL): such a
// manifest is damaged or crafted, and a restore of it could write
// outside its target. The object's root is the one empty path.
func checkPaths(m *format.Manifest) error {
	for _, f := range m.Files {
		if p := string(f.Path); p != "" {
			if err := sources.CheckPath(p); err != nil {
				return fmt.Errorf("%w: %w", err, format.ErrUndecodable)
			}
		}
	}
	return nil
}
