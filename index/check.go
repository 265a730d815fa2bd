package index

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
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
	view, err := s.readCatalog(ctx)
	if err != nil {
		return CheckResult{}, err
	}
	// One snapshot for the chunks and the versions: a backup committed in
	// between (the daemon's, every few seconds) would otherwise bring a
	// version whose chunks were not listed.
	cat, release, err := view.Hold()
	if err != nil {
		return CheckResult{}, err
	}
	defer release()
	return s.checkIn(ctx, cat, progress)
}

// checkIn is Check on one catalog snapshot.
func (s *Store) checkIn(ctx context.Context, cat *catalog.Catalog, progress func(packs, total int64)) (CheckResult, error) {
	var res CheckResult
	packs := map[string][]ID{}
	locs := map[ID]format.BlobLoc{}
	if err := cat.EachChunk(func(id ID, l format.BlobLoc) {
		packs[format.PackName(l.Pack)] = append(packs[format.PackName(l.Pack)], id)
		locs[id] = l
	}); err != nil {
		return res, fmt.Errorf("check: list chunks: %w", err)
	}
	bad := map[ID]string{} // chunk -> problem
	var mu sync.Mutex
	var done int64
	names := make([]string, 0, len(packs))
	for name := range packs {
		names = append(names, name)
	}
	sort.Strings(names)
	err := format.Parallel(ctx, names, func(ctx context.Context, name string) error {
		data, err := format.ReadRange(ctx, s.be, name, 0, -1)
		var problems map[ID]string
		switch {
		case errors.Is(err, backends.ErrNotFound):
			problems = map[ID]string{}
			for _, c := range packs[name] {
				problems[c] = "pack missing: " + name
			}
		case err != nil:
			return fmt.Errorf("check: %w", err)
		default:
			problems = checkPack(name, data, packs[name], locs)
		}
		mu.Lock()
		defer mu.Unlock()
		done++
		if progress != nil {
			progress(done, int64(len(names)))
		}
		if err == nil {
			res.Packs++
			res.Bytes += int64(len(data))
			res.Chunks += int64(len(packs[name]))
		}
		for c, p := range problems {
			bad[c] = p
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	return res, s.attribute(ctx, cat, bad, locs, &res)
}

// checkPack verifies the chunks ids that the index places in the pack
// name (read whole into data) and returns what is wrong with each bad one.
func checkPack(name string, data []byte, ids []ID, locs map[ID]format.BlobLoc) map[ID]string {
	bad := map[ID]string{}
	hdr := map[ID]format.PackBlob{}
	blobs, herr := format.PackHeader(name, data)
	for _, b := range blobs {
		hdr[b.ID] = b
	}
	for _, c := range ids {
		l := locs[c]
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
		if _, err := format.DecodeBlob(c, l.Type, data[l.Offset:end], int(l.RawLen)); err != nil {
			bad[c] = fmt.Sprintf("chunk in %s: %v", name, err)
		}
	}
	return bad
}

// attribute finds, for every bad chunk and every chunk referenced but not
// indexed (not in locs), the version files that need it.
func (s *Store) attribute(ctx context.Context, cat *catalog.Catalog, bad map[ID]string, locs map[ID]format.BlobLoc, res *CheckResult) error {
	vs, err := cat.AllVersions()
	if err != nil {
		return fmt.Errorf("check: list versions: %w", err)
	}
	a := &attribution{bad: bad, locs: locs, affected: map[ID][]string{}, seenRef: map[string]bool{}}
	for _, v := range vs {
		a.file(v.Object.String()+"/"+TimeName(v.Time)+": (the version's file list)", File{Chunks: v.FileList})
		err := s.Walk(ctx, v, "", func(f File) error {
			a.file(v.Object.String()+"/"+TimeName(v.Time)+": "+f.Path, f)
			return nil
		})
		if err != nil {
			return fmt.Errorf("check: walk %s: %w", v.Name, err)
		}
	}
	damaged, err := cat.Damaged()
	if err != nil {
		return fmt.Errorf("check: list damaged objects: %w", err)
	}
	for _, d := range damaged {
		what := "index file"
		if d.IsVersion() {
			what = "version"
			a.file(d.Name+": (the version's file list)", File{Chunks: d.FileList})
		}
		res.Damage = append(res.Damage, Damage{
			Problem:  fmt.Sprintf("%s cannot be loaded, so it is left out of the catalog: %s", what, d.Problem),
			Affected: []string{d.Name},
		})
	}
	res.Damage = append(res.Damage, a.badRefs...)
	for id, problem := range bad {
		d := Damage{Problem: problem, Chunk: id.String(), Affected: a.affected[id]}
		res.Damage = append(res.Damage, d)
	}
	sort.Slice(res.Damage, func(i, j int) bool { return res.Damage[i].Chunk < res.Damage[j].Chunk })
	return nil
}

// attribution collects, file by file, which files need each bad chunk and
// which references point past the end of their (healthy) chunk.
type attribution struct {
	bad      map[ID]string
	locs     map[ID]format.BlobLoc
	affected map[ID][]string
	badRefs  []Damage
	seenRef  map[string]bool
}

// file attributes the chunks of f, named where in the report.
func (a *attribution) file(where string, f File) {
	for _, c := range f.Chunks {
		if _, isBad := a.bad[c.ID]; !isBad {
			if loc, ok := a.locs[c.ID]; ok {
				a.checkRef(where, c, loc.RawLen)
				continue
			}
			a.bad[c.ID] = "chunk not in any index"
		}
		if l := a.affected[c.ID]; len(l) == 0 || l[len(l)-1] != where {
			a.affected[c.ID] = append(l, where)
		}
	}
}

// checkRef reports a reference past the end of its n-byte chunk: the chunk
// is healthy, the version's manifest is damaged. One entry per file and
// chunk.
func (a *attribution) checkRef(where string, c ChunkRef, n uint32) {
	end := uint64(c.Off) + uint64(c.Size)
	if end <= uint64(n) {
		return
	}
	key := where + "\x00" + c.ID.String()
	if a.seenRef[key] {
		return
	}
	a.seenRef[key] = true
	a.badRefs = append(a.badRefs, Damage{
		Problem:  fmt.Sprintf("reference to bytes %d-%d of a %d-byte chunk (the version's manifest is damaged)", c.Off, end, n),
		Chunk:    c.ID.String(),
		Affected: []string{where},
	})
}
