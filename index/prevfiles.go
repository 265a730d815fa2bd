package index

import (
	"context"
	"fmt"

	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
)

// prevFiles is the previous version's entries, loaded from the catalog in
// the background while the source starts: on a re-backup of a large tree
// the load (a cold catalog, 80,000 records) and the source's walk (cold
// inodes) each take about as long, and overlapping them hides one.
// Everything that reads the entries waits for the load.
type prevFiles struct {
	done  chan struct{}
	files map[string]prevFile
	err   error
}

// prevFile is a previous entry and, when the version's file list was
// stored as lines, its line: an unchanged entry's line is reused in the
// next list as it is, not encoded again.
type prevFile struct {
	File
	line []byte
}

// loadPrevFiles starts loading v's entries (none when v is nil).
func (s *Store) loadPrevFiles(ctx context.Context, v *Version) *prevFiles {
	p := &prevFiles{done: make(chan struct{}), files: map[string]prevFile{}}
	if v == nil {
		close(p.done)
		return p
	}
	// Lines are reused only from a version whose list was stored as
	// lines (format 4): an older version's catalog values are records
	// without their path.
	lines := len(v.FileList) > 0
	go func() {
		defer close(p.done)
		var slab []byte // lines, copied into few large allocations
		p.err = s.withCatalogAsIs(ctx, func(c *catalog.Catalog) error {
			return c.EachFileLine(*v, func(f File, line []byte) {
				pf := prevFile{File: f}
				if lines {
					if cap(slab)-len(slab) < len(line) {
						slab = make([]byte, 0, max(1<<20, len(line)))
					}
					slab = append(slab, line...)
					pf.line = slab[len(slab)-len(line) : len(slab) : len(slab)]
				}
				p.files[f.Path] = pf
			})
		})
		if p.err != nil {
			p.err = fmt.Errorf("load the previous version %s: %w", v.Name, p.err)
		}
	}()
	return p
}

// wait returns the entries once loaded.
func (p *prevFiles) wait() (map[string]prevFile, error) {
	<-p.done
	return p.files, p.err
}

// get returns the previous entry at path; a failed load has none (the
// backup then fails when it ends, see BackupRun.finish).
func (p *prevFiles) get(path string) (prevFile, bool) {
	files, err := p.wait()
	if err != nil {
		return prevFile{}, false
	}
	f, ok := files[path]
	return f, ok
}

// reusedLineNow is f's line in the previous list when f is recorded
// there exactly as it is now, else nil; also nil while the previous list
// is still loading (entries are recorded as the source adds them, and a
// source that does not look at the previous version must not wait for
// it: an equal record encodes to the same line anyway).
func (p *prevFiles) reusedLineNow(f File, r *format.FileRecord) []byte {
	select {
	case <-p.done:
	default:
		return nil
	}
	pf, ok := p.get(f.Path)
	if !ok || pf.line == nil || !format.RecordsEqual(format.ToFileRecord(pf.File), *r) {
		return nil
	}
	return pf.line
}
