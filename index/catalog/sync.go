package catalog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
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
		if !loaded[name] {
			todo = append(todo, name)
		}
	}
	return format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		idx, err := format.ReadIndexFile(ctx, be, name)
		if err != nil {
			return err
		}
		return c.addIndex(name, idx)
	})
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
	for name := range loaded {
		if !onBackend[name] {
			if err := c.dropVersion(name); err != nil {
				return err
			}
		}
	}
	var todo []string
	for name := range onBackend {
		if !loaded[name] && !strings.Contains(name[strings.LastIndexByte(name, '/')+1:], ".tmp") {
			todo = append(todo, name)
		}
	}
	var resync sync.Mutex
	return format.Parallel(ctx, todo, func(ctx context.Context, name string) error {
		m, err := format.ReadManifest(ctx, be, name)
		if err != nil {
			return err
		}
		if len(m.FileList) > 0 {
			m.Files, m.Lines, err = c.readFileList(ctx, be, m.FileList.Refs())
			if errors.Is(err, errChunkUnindexed) {
				// Written by another host after this sync listed the
				// indexes: its index is on the backend by now (a
				// manifest is written after it).
				resync.Lock()
				err = c.syncIndexes(ctx, be)
				resync.Unlock()
				if err == nil {
					m.Files, m.Lines, err = c.readFileList(ctx, be, m.FileList.Refs())
				}
			}
			if err != nil {
				return fmt.Errorf("manifest %s: %w", name, err)
			}
		}
		return c.AddVersion(name, m)
	})
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
			return nil, nil, fmt.Errorf("file list chunk %s: %w", refs[i].ID, err)
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
