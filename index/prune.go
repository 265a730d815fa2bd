package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/stratabackup/strata/backends"
)

// PruneResult says what prune did (or would do).
type PruneResult struct {
	PacksDeleted   int   `json:"packs_deleted"`
	PacksRewritten int   `json:"packs_rewritten"`
	BytesFreed     int64 `json:"bytes_freed"`
	ChunksKept     int64 `json:"chunks_kept"`
	// TempRemoved counts temporary objects of killed uploads removed.
	TempRemoved int `json:"temp_removed"`
}

// repackThreshold: a pack whose unused bytes exceed this fraction is
// rewritten with only its used chunks; below it, the waste is cheaper than
// the rewrite.
const repackThreshold = 0.3

// Prune removes what no version references: packs wholly unused (or left
// behind by a crashed backup) are deleted, mostly unused ones rewritten.
// It holds the store's exclusive lock, so it waits for running backups and
// never removes what one of them needs. Order (crash safe): new packs, new
// index, old indexes deleted, then old packs.
func (s *Store) Prune(ctx context.Context, dryRun bool, waiting func(string)) (PruneResult, error) {
	var res PruneResult
	lock, err := exclusiveLock(ctx, s.be, "prune", func(li lockInfo) {
		if waiting != nil {
			waiting(fmt.Sprintf("%s (pid %d on %s)", li.Op, li.PID, li.Host))
		}
	})
	if err != nil {
		return res, fmt.Errorf("prune: lock store: %w", err)
	}
	defer lock.release()
	// The catalog is opened only now, with the lock held: a backup that
	// prune waits for needs the catalog to commit.
	err = s.withCatalog(ctx, func(cat *catalog) error {
		var err error
		res, err = s.prune(ctx, cat, dryRun)
		return err
	})
	if err == nil && !dryRun {
		res.TempRemoved, err = s.removeTemporary(ctx)
	}
	return res, err
}

// staleTemp is how old a temporary object must be for prune to delete it:
// with the exclusive lock no backup runs, but another process may be
// writing its lock object just now.
const staleTemp = 10 * time.Minute

// removeTemporary deletes what uploads killed mid-way left behind.
func (s *Store) removeTemporary(ctx context.Context) (int, error) {
	tr, ok := s.be.(backends.TempRemover)
	if !ok {
		return 0, nil
	}
	n, err := tr.RemoveTemporary(ctx, "", staleTemp)
	if err != nil {
		return n, fmt.Errorf("prune: %w", err)
	}
	return n, nil
}

func (s *Store) prune(ctx context.Context, cat *catalog, dryRun bool) (PruneResult, error) {
	var res PruneResult
	used := map[ID]bool{}
	if err := cat.scan([]byte{keyFile}, func(_, v []byte) error {
		var m mfile
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		for _, c := range m.Chunks {
			used[c.ID] = true
		}
		return nil
	}); err != nil {
		return res, err
	}
	type packUse struct {
		used, unused   []packBlob
		usedB, unusedB int64
	}
	packs := map[ID]*packUse{}
	if err := cat.scan([]byte{keyChunk}, func(k, v []byte) error {
		var id ID
		copy(id[:], k[1:])
		l := decodeLoc(v)
		pu := packs[l.Pack]
		if pu == nil {
			pu = &packUse{}
			packs[l.Pack] = pu
		}
		b := packBlob{ID: id, Type: l.Type, Offset: l.Offset, Length: l.Length, RawLen: l.RawLen}
		if used[id] {
			pu.used, pu.usedB = append(pu.used, b), pu.usedB+int64(l.Length)
		} else {
			pu.unused, pu.unusedB = append(pu.unused, b), pu.unusedB+int64(l.Length)
		}
		return nil
	}); err != nil {
		return res, err
	}
	onBackend := map[ID]int64{}
	if err := s.be.List(ctx, "packs/", func(oi backends.ObjectInfo) error {
		if id, ok := parsePackName(oi.Name); ok {
			onBackend[id] = oi.Size
		}
		return nil
	}); err != nil {
		return res, err
	}
	var keep []indexPack
	var drop []ID
	pk := newPacker(s.be)
	for id, size := range onBackend {
		pu := packs[id]
		switch {
		case pu == nil || len(pu.used) == 0:
			drop = append(drop, id)
			res.BytesFreed += size
		case float64(pu.unusedB) > repackThreshold*float64(pu.usedB+pu.unusedB):
			drop = append(drop, id)
			res.PacksRewritten++
			res.BytesFreed += pu.unusedB
			if dryRun {
				continue
			}
			for _, b := range pu.used {
				blob, err := getRange(ctx, s.be, packName(id), int64(b.Offset), int64(b.Length))
				if err != nil {
					return res, fmt.Errorf("prune: repack: %w", err)
				}
				if _, err := decodeBlob(b.ID, b.Type, append([]byte(nil), blob...), int(b.RawLen)); err != nil {
					return res, fmt.Errorf("prune: repack %s: %w (run `strata check`)", packName(id), err)
				}
				if err := pk.add(ctx, b.ID, b.Type, blob, int(b.RawLen)); err != nil {
					return res, err
				}
			}
		default:
			keep = append(keep, indexPack{ID: id, Blobs: pu.used})
		}
		if pu != nil {
			res.ChunksKept += int64(len(pu.used))
		}
	}
	res.PacksDeleted = len(drop) - res.PacksRewritten
	if dryRun {
		return res, nil
	}
	newPacks, err := pk.flush(ctx)
	if err != nil {
		return res, err
	}
	keep = append(keep, newPacks...)
	return res, s.replaceIndexes(ctx, cat, keep, drop)
}

func (s *Store) replaceIndexes(ctx context.Context, cat *catalog, keep []indexPack, drop []ID) error {
	old, err := listNames(ctx, s.be, "indexes/")
	if err != nil {
		return err
	}
	data, err := zstdJSON(indexFile{Packs: keep})
	if err != nil {
		return err
	}
	if err := s.be.Put(ctx, "indexes/"+randomID(), data); err != nil {
		return fmt.Errorf("prune: write index: %w", err)
	}
	for name := range old {
		if err := s.be.Delete(ctx, name); err != nil {
			return fmt.Errorf("prune: delete old index %s: %w", name, err)
		}
	}
	for _, id := range drop {
		if err := s.be.Delete(ctx, packName(id)); err != nil {
			return fmt.Errorf("prune: delete %s: %w", packName(id), err)
		}
	}
	return cat.sync(ctx, s.be)
}
