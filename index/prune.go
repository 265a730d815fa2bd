package index

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/index/lock"
)

// PruneResult says what prune did (or would do).
type PruneResult struct {
	PacksDeleted   int   `json:"packs_deleted"`
	PacksRewritten int   `json:"packs_rewritten"`
	BytesFreed     int64 `json:"bytes_freed"`
	ChunksKept     int64 `json:"chunks_kept"`
	// Deleted and Rewritten name the packs deleted and rewritten (with a
	// dry run: that prune would), sorted, so that a dry run shows exactly
	// what prune would remove, not only how much.
	Deleted   []string `json:"deleted"`
	Rewritten []string `json:"rewritten"`
	// TempRemoved counts temporary objects of killed uploads removed
	// (with a dry run: that prune would remove), Temporaries names them.
	TempRemoved int      `json:"temp_removed"`
	Temporaries []string `json:"temporaries,omitempty"`
	// StaleLocks are the lock objects of killed backups and prunes that
	// prune removed (with a dry run: would remove).
	StaleLocks []StaleLock `json:"stale_locks,omitempty"`
}

// StaleLock is a lock object whose holder is gone (index/lock decides).
type StaleLock = lock.Stale

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
	held, err := lock.Exclusive(ctx, s.be, "prune", lockWaiter(waiting))
	if err != nil {
		return res, fmt.Errorf("prune: lock store: %w", err)
	}
	defer held.Release()
	// The catalog is read only now, with the lock held (no backup runs to
	// add references), and only for the plan: packs are rewritten without
	// it, so that mounts and refreshes of other processes go on.
	var packs map[ID]*packUse
	var refused error
	err = s.withCatalog(ctx, func(cat *catalog.Catalog) error {
		var err error
		if refused, err = refuseDamaged(cat); err != nil || refused != nil {
			return err
		}
		packs, err = packUsage(cat)
		return err
	})
	if err != nil {
		return res, fmt.Errorf("prune: read catalog: %w", err)
	}
	if refused != nil {
		return res, refused
	}
	res, err = s.prune(ctx, packs, dryRun)
	if err != nil {
		return res, err
	}
	res.Temporaries, err = s.removeTemporary(ctx, dryRun)
	res.TempRemoved = len(res.Temporaries)
	if err != nil {
		return res, err
	}
	res.StaleLocks, err = s.removeStaleLocks(ctx, dryRun)
	return res, err
}

// refuseDamaged fails prune while the catalog could not load some index
// file or version: the chunks a damaged version's files need, or the
// packs a damaged index lists, would look unused, and deleting them
// would make a repair impossible.
// It returns the refusal, or the error reading the catalog.
func refuseDamaged(cat *catalog.Catalog) (refused, err error) {
	ds, err := cat.Damaged()
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = d.Name
	}
	return fmt.Errorf("prune: refusing: %s could not be loaded (damaged), so which data is still needed is unknown; run `strata check`, then repair or delete the damaged objects and run `strata index rebuild`", strings.Join(names, ", ")), nil
}

// staleTemp is how old a temporary object must be for prune to delete it:
// with the exclusive lock no backup runs, but another process may be
// writing its lock object just now.
const staleTemp = 10 * time.Minute

// removeTemporary deletes what uploads killed mid-way left behind and
// returns the names; with dryRun it only lists them.
func (s *Store) removeTemporary(ctx context.Context, dryRun bool) ([]string, error) {
	tr, ok := s.be.(backends.TempRemover)
	if !ok {
		return nil, nil
	}
	names, err := tr.RemoveTemporary(ctx, "", staleTemp, dryRun)
	if err != nil {
		return names, fmt.Errorf("prune: %w", err)
	}
	return names, nil
}

// removeStaleLocks deletes the locks of killed backups and prunes (a
// backup removes them too, when it starts); with dryRun it only lists
// them.
func (s *Store) removeStaleLocks(ctx context.Context, dryRun bool) ([]lock.Stale, error) {
	stale, err := lock.FindStale(ctx, s.be)
	if err != nil || dryRun {
		return stale, err
	}
	removed, err := lock.RemoveStale(ctx, s.be, stale)
	if err != nil {
		return removed, fmt.Errorf("prune: %w", err)
	}
	return removed, nil
}

// packUse is what prune found of one pack's blobs.
type packUse struct {
	used, unused   []format.PackBlob
	usedB, unusedB int64
}

// packUsage sorts every indexed chunk, pack by pack, into used (a file of
// some version refers to it) and unused.
func packUsage(cat *catalog.Catalog) (map[ID]*packUse, error) {
	used := map[ID]bool{}
	if err := cat.EachReference(func(r ChunkRef) { used[r.ID] = true }); err != nil {
		return nil, err
	}
	packs := map[ID]*packUse{}
	err := cat.EachChunk(func(id ID, l format.BlobLoc) {
		pu := packs[l.Pack]
		if pu == nil {
			pu = &packUse{}
			packs[l.Pack] = pu
		}
		b := format.PackBlob{ID: id, Type: l.Type, Offset: l.Offset, Length: l.Length, RawLen: l.RawLen}
		if used[id] {
			pu.used, pu.usedB = append(pu.used, b), pu.usedB+int64(l.Length)
		} else {
			pu.unused, pu.unusedB = append(pu.unused, b), pu.unusedB+int64(l.Length)
		}
	})
	return packs, err
}

// prune deletes or rewrites the packs on the backend by their use.
func (s *Store) prune(ctx context.Context, packs map[ID]*packUse, dryRun bool) (PruneResult, error) {
	res := PruneResult{Deleted: []string{}, Rewritten: []string{}}
	onBackend := map[ID]int64{}
	if err := s.be.List(ctx, "packs/", func(oi backends.ObjectInfo) error {
		if id, ok := format.ParsePackName(oi.Name); ok {
			onBackend[id] = oi.Size
		}
		return nil
	}); err != nil {
		return res, fmt.Errorf("prune: list packs on %s: %w", s.be.Location(), err)
	}
	var keep []format.IndexPack
	var drop []ID
	pk := newPacker(s.be)
	for id, size := range onBackend {
		pu := packs[id]
		switch {
		case pu == nil || len(pu.used) == 0:
			drop = append(drop, id)
			res.Deleted = append(res.Deleted, format.PackName(id))
			res.BytesFreed += size
		case float64(pu.unusedB) > repackThreshold*float64(pu.usedB+pu.unusedB):
			drop = append(drop, id)
			res.Rewritten = append(res.Rewritten, format.PackName(id))
			res.PacksRewritten++
			res.BytesFreed += pu.unusedB
			if !dryRun {
				if err := s.repack(ctx, pk, id, pu.used); err != nil {
					pk.abort()
					return res, err
				}
			}
		default:
			keep = append(keep, format.IndexPack{ID: id, Blobs: pu.used})
		}
		if pu != nil {
			res.ChunksKept += int64(len(pu.used))
		}
	}
	res.PacksDeleted = len(drop) - res.PacksRewritten
	sort.Strings(res.Deleted)
	sort.Strings(res.Rewritten)
	if dryRun {
		return res, nil
	}
	newPacks, err := pk.flush(ctx)
	if err != nil {
		return res, err
	}
	keep = append(keep, newPacks...)
	return res, s.replaceIndexes(ctx, keep, withoutKept(drop, keep))
}

// withoutKept drops from drop every pack the new index lists. A pack is
// named by its content, so a rewrite of the same chunks is the same pack
// again: one that an earlier prune wrote and died before indexing was
// listed by no index, so it was in drop, and then rewritten under that
// very name; deleting it would delete the chunks just moved into it.
func withoutKept(drop []ID, keep []format.IndexPack) []ID {
	kept := make(map[ID]bool, len(keep))
	for _, p := range keep {
		kept[p.ID] = true
	}
	return slices.DeleteFunc(drop, func(id ID) bool { return kept[id] })
}

// repack copies the used blobs of pack id into the packer, verified.
func (s *Store) repack(ctx context.Context, pk *packer, id ID, used []format.PackBlob) error {
	for _, b := range used {
		blob, err := format.ReadRange(ctx, s.be, format.PackName(id), int64(b.Offset), int64(b.Length))
		if err != nil {
			return fmt.Errorf("prune: repack: %w", err)
		}
		if _, err := format.DecodeBlob(b.ID, b.Type, append([]byte(nil), blob...), int(b.RawLen)); err != nil {
			return fmt.Errorf("prune: repack %s: %w (run `strata check`)", format.PackName(id), err)
		}
		if err := pk.add(ctx, b.ID, b.Type, blob, int(b.RawLen)); err != nil {
			return err
		}
	}
	return nil
}

// replaceIndexes writes one index of the packs kept, deletes the old
// indexes, brings the catalog (and this Store's reads) to the new
// locations, and only then deletes the dropped packs, so that this
// process never reads a chunk from a pack already gone.
func (s *Store) replaceIndexes(ctx context.Context, keep []format.IndexPack, drop []ID) error {
	old, err := format.ListNames(ctx, s.be, "indexes/")
	if err != nil {
		return err
	}
	data, err := format.EncodeIndexFile(format.IndexFile{Packs: keep})
	if err != nil {
		return err
	}
	if err := s.be.Put(ctx, "indexes/"+format.RandomID(), data); err != nil {
		return fmt.Errorf("prune: write index: %w", err)
	}
	for name := range old {
		if err := s.be.Delete(ctx, name); err != nil {
			return fmt.Errorf("prune: delete old index %s: %w", name, err)
		}
	}
	if err := s.syncCatalog(ctx); err != nil {
		return fmt.Errorf("prune: reload chunk locations: %w", err)
	}
	for _, id := range drop {
		if err := s.be.Delete(ctx, format.PackName(id)); err != nil {
			return fmt.Errorf("prune: delete %s: %w", format.PackName(id), err)
		}
	}
	return nil
}
