package index

import (
	"errors"
	"sync"
)

// chunkSet is the in-memory set of chunks the store holds, in front of the
// catalog: a map lookup per chunk instead of a Pebble read, and the place
// where concurrent workers agree on who stores a new chunk.
//
// It is loaded from the catalog once, on first use (wait), not before a
// backup begins: a re-backup of a large tree that finds nothing changed
// reads no file, so its walk need not wait for the set, which loads
// while the walk runs (BackupRun.Backup starts it once the previous
// entries have loaded) and is needed only for the version's file list
// and stats at the end.
type chunkSet struct {
	once sync.Once
	load func(add func(ID, uint32)) error
	done chan struct{}
	err  error

	mu sync.Mutex
	m  map[ID]uint32 // stored (compressed) length; 0 while being stored
}

// newChunkSet returns a set that load fills, on first use.
func newChunkSet(load func(add func(ID, uint32)) error) *chunkSet {
	return &chunkSet{load: load, done: make(chan struct{}), m: map[ID]uint32{}}
}

// wait loads the set unless that began already, and returns once it is
// loaded, with the load's error.
func (c *chunkSet) wait() error {
	c.once.Do(func() {
		// The set is not shared until done is closed: no lock needed.
		c.err = c.load(func(id ID, n uint32) { c.m[id] = n })
		close(c.done)
	})
	<-c.done
	return c.err
}

// started reports whether the load has begun (for Close: a load running
// in the background must end before the store can close).
func (c *chunkSet) started() bool {
	started := true
	c.once.Do(func() { started = false; c.err = errNotLoaded; close(c.done) })
	return started
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
