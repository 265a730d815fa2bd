package index

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/stratabackup/strata/index/catalog"
	"github.com/stratabackup/strata/index/format"
)

// chunkSet is the in-memory set of chunks the store holds, in front of the
// catalog: a map lookup per chunk instead of a Pebble read, and the place
// where concurrent workers agree on who stores a new chunk.
//
// It is loaded from the catalog only once a backup stores content
// (demand), not before a backup begins: a re-backup of a large tree that
// finds nothing changed reads no file and needs no set at all (its file
// list is the previous version's chunks, see session.prevList, and so
// are its stats), and loading one, a catalog scan of every chunk the
// store holds, cost a tenth of the CPU of the source tree's no-change
// re-backup and grows with the store rather than with the change.
type chunkSet struct {
	// began is set by whoever loads the set (or closes it unloaded).
	began atomic.Bool
	load  func(add func(ID, uint32)) error
	done  chan struct{}
	err   error
	// want is closed by the first demand.
	wantOnce sync.Once
	want     chan struct{}

	mu sync.Mutex
	m  map[ID]uint32 // stored (compressed) length; 0 while being stored
}

// newChunkSet returns a set that load fills, on first use.
func newChunkSet(load func(add func(ID, uint32)) error) *chunkSet {
	return &chunkSet{load: load, done: make(chan struct{}), want: make(chan struct{}), m: map[ID]uint32{}}
}

// demand says the set will be needed: content is being stored. A backup
// run that is loading the previous entries then loads the set next to
// them (BackupRun.Backup).
func (c *chunkSet) demand() { c.wantOnce.Do(func() { close(c.want) }) }

// wanted is closed once the set is demanded.
func (c *chunkSet) wanted() <-chan struct{} { return c.want }

// wait loads the set unless that began already, and returns once it is
// loaded, with the load's error.
func (c *chunkSet) wait() error {
	c.demand()
	c.loadWith(c.load)
	<-c.done
	return c.err
}

// loadWith loads the set with load unless a load began already: a backup
// run that stores content while the previous version's entries load
// loads it next to them, in their catalog session (loadPrevFiles),
// rather than in one of its own after them, which kept the workers from
// their first chunk for a tenth of the generated set's second backup.
func (c *chunkSet) loadWith(load func(add func(ID, uint32)) error) {
	// Not a sync.Once: a load in the previous entries' session must not
	// wait for one begun in a session of its own, which waits for that
	// session to end.
	if !c.began.CompareAndSwap(false, true) {
		return
	}
	// The set is not shared until done is closed: no lock needed.
	c.err = load(func(id ID, n uint32) { c.m[id] = n })
	close(c.done)
}

// chunksIn loads a chunk set from the catalog c.
func chunksIn(c *catalog.Catalog) func(add func(ID, uint32)) error {
	return func(add func(ID, uint32)) error {
		if err := c.EachChunk(func(id ID, loc format.BlobLoc) { add(id, loc.Length) }); err != nil {
			return fmt.Errorf("load chunk set: %w", err)
		}
		return nil
	}
}

// started reports whether the load has begun (for Close: a load running
// in the background must end before the store can close).
func (c *chunkSet) started() bool {
	if !c.began.CompareAndSwap(false, true) {
		return true
	}
	c.err = errNotLoaded
	close(c.done)
	return false
}

// errNotLoaded is the set's error once its run closed without using it.
var errNotLoaded = errors.New("chunk set: the backup run is closed")

// claim reports whether the caller is the first to see id and so must
// store it.
func (c *chunkSet) claim(id ID) (bool, error) {
	if err := c.wait(); err != nil {
		return false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; ok {
		return false, nil
	}
	c.m[id] = 0
	return true, nil
}

func (c *chunkSet) stored(id ID, n uint32) {
	c.mu.Lock()
	c.m[id] = n
	c.mu.Unlock()
}

// size is id's stored length; callers have waited for the load.
func (c *chunkSet) size(id ID) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

// forget drops ids claimed by a backup that failed: their packs were never
// indexed, so no later backup may refer to them.
func (c *chunkSet) forget(ids []ID) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.m, id)
	}
	c.mu.Unlock()
}
