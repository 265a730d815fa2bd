package index

import (
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"sync"
	"unsafe"

	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// prevFiles is the previous version's entries, loaded from the catalog in
// the background while the source starts: on a re-backup of a large tree
// the load (a cold catalog, 80,000 records) and the source's walk (cold
// inodes) each take about as long, and overlapping them hides one. The
// catalog yields entries directory by directory, in its key order
// (catalog.DirBefore), so a lookup waits only until the load has passed
// its directory, not for the whole list; a walk that visits directories
// in that order (the posix source's does) runs right behind the load.
// Everything that needs every entry waits for the end (wait, each).
//
// Entries are kept as the catalog stores them (path and record bytes,
// packed into few large slabs) and decoded when looked up. Decoded and
// held in a map, a 1,000,000-file tree's previous version took 650 MB of
// heap and the re-backup 1.5 GB of RSS; an entry is decoded once per
// lookup (a Keep right after its Lookup reuses that decode, recent), so
// decoding on demand costs about what decoding up front did.
type prevFiles struct {
	done chan struct{}
	mu   sync.RWMutex
	// more is signalled (with mu's read side) when front moves or the
	// load ends.
	more *sync.Cond
	// index finds an entry in ents by path.
	index map[string]int32
	// ents are the entries in the catalog's order.
	ents []prevEnt
	// lines says the values are the version's list lines, which an
	// unchanged entry reuses (format 4): an older version's catalog
	// values are records without their path.
	lines bool
	// front is the directory being loaded: every directory before it
	// (catalog.DirBefore) is complete in index.
	front  string
	loaded bool
	err    error

	// bad is the first record that failed to decode, which fails the
	// backup (wait) as a failed load does.
	badMu sync.Mutex
	bad   error

	// recent holds entries a source looked up, by a hash of their path,
	// for the Keep that follows: a walk looks up every file and keeps the
	// unchanged ones at once, and decoding each entry a second time there
	// cost a tenth of a no-change re-backup's CPU.
	recent [recentSlots]recentSlot
}

// recentSlots is how many looked-up entries wait for their Keep: a few
// per walker, so that walkers rarely take each other's slot.
const recentSlots = 64

// recentSlot is one looked-up entry (path "" when empty).
type recentSlot struct {
	mu   sync.Mutex
	path string
	f    prevFile
}

// recentSeed hashes paths to slots.
var recentSeed = maphash.MakeSeed()

// prevEnt is one stored entry: its path and its catalog value. Both point
// into a slab shared with other entries.
type prevEnt struct {
	path string
	val  []byte
}

// prevFile is a previous entry, decoded, and, when the version's file
// list was stored as lines, its line: an unchanged entry's line is
// reused in the next list as it is, not encoded again.
type prevFile struct {
	File
	line []byte
	// at is the entry's index in ents (unchangedList tracks it by that).
	at int32
}

func newPrevFiles() *prevFiles {
	p := &prevFiles{done: make(chan struct{}), index: map[string]int32{}}
	p.more = sync.NewCond(p.mu.RLocker())
	return p
}

// prevSizeHintMax bounds the entries made room for up front; a larger
// version's grow as they load.
const prevSizeHintMax = 1 << 22

// slabSize is the size of the slabs that entries are copied into.
const slabSize = 1 << 20

// loadPrevFiles starts loading v's entries (none when v is nil). also,
// when not nil, runs next to the load in the same catalog session, which
// ends once both have; loaded is closed when the entries are.
func (s *Store) loadPrevFiles(ctx context.Context, v *Version, also func(c *catalog.Catalog, loaded <-chan struct{})) *prevFiles {
	p := newPrevFiles()
	if v == nil {
		p.finish(nil)
		return p
	}
	p.lines = len(v.FileList) > 0
	// Sized for the version's entries up front: growing the index and the
	// entries as they load copied them about twice over. The stats are a
	// hint, bounded so that a damaged manifest cannot ask for gigabytes.
	if n := min(v.Stats.Files+v.Stats.Dirs, prevSizeHintMax); n > 0 {
		p.index = make(map[string]int32, n)
		p.ents = make([]prevEnt, 0, n)
	}
	go s.loadPrevInto(ctx, p, v, also)
	return p
}

// slabs copy the catalog's bytes, which are valid only during a scan's
// callback, into large shared slabs: one allocation per entry would cost
// more than the entries themselves.
type slabs struct{ slab []byte }

// keep returns parts, concatenated, in the current slab.
func (s *slabs) keep(parts ...[]byte) []byte {
	n := 0
	for _, b := range parts {
		n += len(b)
	}
	if cap(s.slab)-len(s.slab) < n {
		s.slab = make([]byte, 0, max(slabSize, n))
	}
	start := len(s.slab)
	for _, b := range parts {
		s.slab = append(s.slab, b...)
	}
	return s.slab[start:len(s.slab):len(s.slab)]
}

// loadPrevInto loads v's entries into p, publishing them directory by
// directory, and runs also next to the load (see loadPrevFiles).
func (s *Store) loadPrevInto(ctx context.Context, p *prevFiles, v *Version, also func(c *catalog.Catalog, loaded <-chan struct{})) {
	var sl slabs
	var batch []prevEnt
	dir := ""
	done := false
	end := func(err error) {
		p.publish(batch, dir)
		if err != nil {
			err = fmt.Errorf("load the previous version %s: %w", v.Name, err)
		}
		p.finish(err)
		done = true
	}
	err := s.withCatalogAsIs(ctx, func(c *catalog.Catalog) error {
		var wg sync.WaitGroup
		if also != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				also(c, p.done)
			}()
		}
		end(c.EachFileRaw(*v, func(d, name, val []byte) error {
			var path []byte
			if len(d) == 0 {
				path = sl.keep(name)
			} else {
				path = sl.keep(d, []byte{'/'}, name)
			}
			ent := prevEnt{path: bytesString(path), val: sl.keep(val)}
			if string(d) != dir {
				p.publish(batch, string(d))
				batch, dir = batch[:0], string(d)
			}
			batch = append(batch, ent)
			return nil
		}))
		wg.Wait() // the session must outlive also's scan
		return nil
	})
	if !done {
		end(err) // the session did not open
	}
}

// bytesString is b as a string without a copy. Only for bytes that are
// never written again: a slab's filled part.
func bytesString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// publish adds a directory's entries and moves the front to the next
// directory the load has reached.
func (p *prevFiles) publish(batch []prevEnt, front string) {
	p.mu.Lock()
	for _, e := range batch {
		p.index[e.path] = int32(len(p.ents))
		p.ents = append(p.ents, e)
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

// wait returns once the load has ended, with its error or the first
// record that did not decode when looked up (a record never looked up is
// never decoded: a re-backup no longer fails on a damaged record of a
// file that is gone).
func (p *prevFiles) wait() error {
	<-p.done
	if p.err != nil {
		return p.err
	}
	p.badMu.Lock()
	defer p.badMu.Unlock()
	return p.bad
}

// each calls fn with every entry, in the catalog's order, once loaded;
// it stops at the first error.
func (p *prevFiles) each(fn func(prevFile) error) error {
	if err := p.wait(); err != nil {
		return err
	}
	for i, e := range p.ents { // complete and no longer written
		f, err := p.decode(e, int32(i))
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// count is the number of entries, once loaded.
func (p *prevFiles) count() int {
	if p.wait() != nil {
		return 0
	}
	return len(p.ents)
}

// decode is entry at (ents[at]) as the backup uses it.
func (p *prevFiles) decode(e prevEnt, at int32) (prevFile, error) {
	var m format.FileRecord
	if err := format.DecodeFileRecord(e.val, &m); err != nil {
		err = fmt.Errorf("previous version's entry %q: %w", e.path, err)
		p.badMu.Lock()
		if p.bad == nil {
			p.bad = err
		}
		p.badMu.Unlock()
		return prevFile{}, err
	}
	m.Path = format.RawString(e.path)
	pf := prevFile{File: m.File(), at: at}
	if p.lines {
		pf.line = e.val
	}
	return pf, nil
}

// get returns the previous entry at path, waiting until the load has
// passed path's directory; a failed load has none (the backup then fails
// when it ends, see BackupRun.finish), nor has an entry that does not
// decode (likewise). Safe for concurrent use.
func (p *prevFiles) get(path string) (prevFile, bool) {
	i, e, ok := p.raw(path)
	if !ok {
		return prevFile{}, false
	}
	f, err := p.decode(e, i)
	return f, err == nil
}

// raw is get without the decoding: the entry's index in ents and its
// catalog value.
func (p *prevFiles) raw(path string) (int32, prevEnt, bool) {
	dir, _ := format.SplitPath(path)
	p.mu.RLock()
	for !p.loaded && !catalog.DirBefore(dir, p.front) {
		p.more.Wait()
	}
	var e prevEnt
	i, ok := p.index[path]
	if ok && p.err == nil {
		e = p.ents[i]
	}
	failed := p.err != nil
	p.mu.RUnlock()
	return i, e, ok && !failed
}

// lookup is get for a source's Lookup: the entry is also kept for kept.
func (p *prevFiles) lookup(path string) (prevFile, bool) {
	f, ok := p.get(path)
	if ok {
		r := &p.recent[maphash.String(recentSeed, path)%recentSlots]
		r.mu.Lock()
		r.path, r.f = path, f
		r.mu.Unlock()
	}
	return f, ok
}

// kept is get for a Keep: the entry that lookup decoded, unless another
// lookup has taken its slot since.
func (p *prevFiles) kept(path string) (prevFile, bool) {
	r := &p.recent[maphash.String(recentSeed, path)%recentSlots]
	r.mu.Lock()
	if r.path == path {
		f := r.f
		r.path, r.f = "", prevFile{}
		r.mu.Unlock()
		return f, true
	}
	r.mu.Unlock()
	return p.get(path)
}

// reusedLine is the previous list's line of kept file f when f is
// recorded exactly as it was, else nil and f's record, to encode. An
// entry equal field for field over the very same chunks (a Keep) is the
// previous record without building either record (two records per file
// were a tenth of a no-change re-backup's CPU); otherwise the records are
// compared. Files a source wrote anew are encoded instead (pf nil),
// without looking at their previous entry: nearly all of them changed,
// an equal record encodes to the same line anyway, and decoding the
// previous entry to compare costs more than encoding (0.53 against 0.34
// s of CPU for the 78,669 files of a source tree).
func (pf *prevFile) reusedLine(f *File) ([]byte, format.FileRecord) {
	if pf != nil && pf.line != nil && len(f.Chunks) == len(pf.Chunks) &&
		(len(f.Chunks) == 0 || &f.Chunks[0] == &pf.Chunks[0]) && sameEntry(&pf.Entry, &f.Entry) {
		return pf.line, format.FileRecord{}
	}
	r := format.ToFileRecord(*f)
	if pf == nil || pf.line == nil || !format.RecordsEqual(format.ToFileRecord(pf.File), r) {
		return nil, r
	}
	return pf.line, r
}

// sameEntry reports whether a and b are equal in every field, and so
// make the same file record with the same chunks (format.ToFileRecord
// reads nothing else); TestSameEntrySeesEveryField keeps it complete.
func sameEntry(a, b *sources.Entry) bool {
	return a.Path == b.Path && a.Type == b.Type && a.Mode == b.Mode && a.ModTime.Equal(b.ModTime) &&
		a.Size == b.Size && a.Target == b.Target && a.Fingerprint == b.Fingerprint &&
		(a.Owner == b.Owner || a.Owner != nil && b.Owner != nil && *a.Owner == *b.Owner) &&
		maps.Equal(a.Attrs, b.Attrs) && a.HardLink == b.HardLink && a.Nlink == b.Nlink
}
