package index

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/stratabackup/strata/backends"
)

// Damage is one problem check found, with what it affects.
type Damage struct {
	// What is wrong: a chunk that fails its hash, a missing pack.
	Problem string `json:"problem"`
	Pack    string `json:"pack,omitempty"`
	Chunk   string `json:"chunk,omitempty"`
	// Affected lists "version: path" for every file that needs the chunk.
	Affected []string `json:"affected,omitempty"`
}

// CheckResult summarises a check.
type CheckResult struct {
	Packs, Chunks int64
	Bytes         int64
	Damage        []Damage
}

// Check reads every pack, verifies every chunk's hash and that every chunk
// a version references is indexed, and names the versions and files that
// each problem affects.
func (s *Store) Check(ctx context.Context, progress func(packs, total int64)) (CheckResult, error) {
	var res CheckResult
	cat, err := s.catalog()
	if err != nil {
		return res, err
	}
	packs := map[ID][]ID{}
	if err := cat.scan([]byte{keyChunk}, func(k, v []byte) error {
		var id ID
		copy(id[:], k[1:])
		l := decodeLoc(v)
		packs[l.Pack] = append(packs[l.Pack], id)
		return nil
	}); err != nil {
		return res, err
	}
	bad := map[ID]string{} // chunk -> problem
	var mu sync.Mutex
	var done int64
	ids := make([]string, 0, len(packs))
	byName := map[string]ID{}
	for p := range packs {
		ids = append(ids, packName(p))
		byName[packName(p)] = p
	}
	sort.Strings(ids)
	err = parallel(ctx, ids, func(ctx context.Context, name string) error {
		data, err := getRange(ctx, s.be, name, 0, -1)
		mu.Lock()
		defer mu.Unlock()
		done++
		if progress != nil {
			progress(done, int64(len(ids)))
		}
		if errors.Is(err, backends.ErrNotFound) {
			for _, c := range packs[byName[name]] {
				bad[c] = "pack missing: " + name
			}
			return nil
		}
		if err != nil {
			return err
		}
		res.Packs++
		res.Bytes += int64(len(data))
		hdr := map[ID]packBlob{}
		blobs, herr := packHeader(name, data)
		for _, b := range blobs {
			hdr[b.ID] = b
		}
		for _, c := range packs[byName[name]] {
			l, _, _ := cat.chunk(c)
			res.Chunks++
			if h, ok := hdr[c]; herr != nil {
				bad[c] = herr.Error()
				continue
			} else if !ok || h.Offset != l.Offset || h.Length != l.Length {
				bad[c] = name + ": its header does not list the chunk where the index says"
				continue
			}
			end := int64(l.Offset) + int64(l.Length)
			if end > int64(len(data)) {
				bad[c] = "chunk beyond the end of " + name
				continue
			}
			if _, err := decodeBlob(c, l.Type, data[l.Offset:end], int(l.RawLen)); err != nil {
				bad[c] = fmt.Sprintf("chunk in %s: %v", name, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, s.attribute(ctx, cat, bad, &res)
}

// attribute finds, for every bad chunk and every chunk referenced but not
// indexed, the version files that need it.
func (s *Store) attribute(ctx context.Context, cat *catalog, bad map[ID]string, res *CheckResult) error {
	vs, err := cat.allVersions()
	if err != nil {
		return err
	}
	affected := map[ID][]string{}
	rawLen := map[ID]uint32{} // indexed chunks already looked up
	var badRefs []Damage
	seenRef := map[string]bool{}
	for _, v := range vs {
		err := s.Walk(ctx, v, "", func(f File) error {
			where := v.Object.String() + "/" + TimeName(v.Time) + ": " + f.Path
			for _, c := range f.Chunks {
				if _, isBad := bad[c.ID]; !isBad {
					n, seen := rawLen[c.ID]
					if !seen {
						loc, ok, err := cat.chunk(c.ID)
						if err != nil {
							return err
						}
						if ok {
							n, seen = loc.RawLen, true
							rawLen[c.ID] = n
						} else {
							bad[c.ID] = "chunk not in any index"
						}
					}
					if seen {
						// A healthy chunk, but this file's reference to it
						// may point past its end (a damaged manifest).
						if end := uint64(c.Off) + uint64(c.Size); end > uint64(n) {
							key := where + "\x00" + c.ID.String()
							if seenRef[key] {
								continue // one entry per file and chunk
							}
							seenRef[key] = true
							badRefs = append(badRefs, Damage{
								Problem:  fmt.Sprintf("reference to bytes %d-%d of a %d-byte chunk (the version's manifest is damaged)", c.Off, end, n),
								Chunk:    c.ID.String(),
								Affected: []string{where},
							})
						}
						continue
					}
				}
				if l := affected[c.ID]; len(l) == 0 || l[len(l)-1] != where {
					affected[c.ID] = append(l, where)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	res.Damage = append(res.Damage, badRefs...)
	for id, problem := range bad {
		d := Damage{Problem: problem, Chunk: id.String(), Affected: affected[id]}
		res.Damage = append(res.Damage, d)
	}
	sort.Slice(res.Damage, func(i, j int) bool { return res.Damage[i].Chunk < res.Damage[j].Chunk })
	return nil
}
