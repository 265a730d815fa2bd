package index

import (
	"context"
	"fmt"
	"sync"

	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
)

// prevFiles is the previous version's entries, loaded from the catalog in
// the background while the source starts: on a re-backup of a large tree
// the load (a cold catalog, 80,000 records) and the source's walk (cold
// inodes) each take about as long, and overlapping them hides one. The
// catalog yields entries directory by directory, in its key order
// (catalog.DirBefore), so a lookup waits only until the load has passed
// its directory, not for the whole list; a walk that visits directories
// in that order (the posix source's does) runs right behind the load.
// Everything that needs every entry waits for the end (wait).
type prevFiles struct {
	done chan struct{}
	mu   sync.RWMutex
	// more is signalled (with mu's read side) when front moves or the
	// load ends.
	more  *sync.Cond
	files map[string]prevFile
	// front is the directory being loaded: every directory before it
	// (catalog.DirBefore) is complete in files.
	front  string
	loaded bool
	err    error
}

// prevFile is a previous entry and, when the version's file list was
// stored as lines, its line: an unchanged entry's line is reused in the
// next list as it is, not encoded again.
type prevFile struct {
	File
	line []byte
}

func newPrevFiles() *prevFiles {
	p := &prevFiles{done: make(chan struct{}), files: map[string]prevFile{}}
	p.more = sync.NewCond(p.mu.RLocker())
	return p
}

// loadPrevFiles starts loading v's entries (none when v is nil).
func (s *Store) loadPrevFiles(ctx context.Context, v *Version) *prevFiles {
	p := newPrevFiles()
	if v == nil {
		p.finish(nil)
		return p
	}
	// Lines are reused only from a version whose list was stored as
	// lines (format 4): an older version's catalog values are records
	// without their path.
	lines := len(v.FileList) > 0
	go func() {
		var slab []byte // lines, copied into few large allocations
		var batch []prevFile
		dir := ""
		err := s.withCatalogAsIs(ctx, func(c *catalog.Catalog) error {
			return c.EachFileLine(*v, func(f File, line []byte) {
				pf := prevFile{File: f}
				if lines {
					if cap(slab)-len(slab) < len(line) {
						slab = make([]byte, 0, max(1<<20, len(line)))
					}
					slab = append(slab, line...)
					pf.line = slab[len(slab)-len(line) : len(slab) : len(slab)]
				}
				if d, _ := format.SplitPath(f.Path); d != dir {
					p.publish(batch, d)
					batch, dir = batch[:0], d
				}
				batch = append(batch, pf)
			})
		})
		p.publish(batch, dir)
		if err != nil {
			err = fmt.Errorf("load the previous version %s: %w", v.Name, err)
		}
		p.finish(err)
	}()
	return p
}

// publish adds a directory's entries and moves the front to the next
// directory the load has reached.
func (p *prevFiles) publish(batch []prevFile, front string) {
	p.mu.Lock()
	for _, f := range batch {
		p.files[f.Path] = f
	}
	p.front = front
	p.mu.Unlock()
	p.more.Broadcast()
}

// finish ends the load.
func (p *prevFiles) finish(err error) {
	p.mu.Lock()
	p.loaded, p.err = true, err
	p.mu.Unlock()
	p.more.Broadcast()
	close(p.done)
}

// wait returns the entries once loaded.
func (p *prevFiles) wait() (map[string]prevFile, error) {
	<-p.done
	return p.files, p.err
}

// get returns the previous entry at path, waiting until the load has
// passed path's directory; a failed load has none (the backup then fails
// when it ends, see BackupRun.finish). Safe for concurrent use.
func (p *prevFiles) get(path string) (prevFile, bool) {
	dir, _ := format.SplitPath(path)
	p.mu.RLock()
	defer p.mu.RUnlock()
	for !p.loaded && !catalog.DirBefore(dir, p.front) {
		p.more.Wait()
	}
	if p.err != nil {
		return prevFile{}, false
	}
	f, ok := p.files[path]
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
