package index

import "sync"

// chunkSet is the in-memory set of chunks the store holds, in front of the
// catalog: a map lookup per chunk instead of a Pebble read, and the place
// where concurrent workers agree on who stores a new chunk.
type chunkSet struct {
	mu sync.Mutex
	m  map[ID]uint32 // stored (compressed) length; 0 while being stored
}

func newChunkSet() *chunkSet { return &chunkSet{m: map[ID]uint32{}} }

// claim reports whether the caller is the first to see id and so must
// store it.
func (c *chunkSet) claim(id ID) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[id]; ok {
		return false
	}
	c.m[id] = 0
	return true
}

func (c *chunkSet) stored(id ID, n uint32) {
	c.mu.Lock()
	c.m[id] = n
	c.mu.Unlock()
}

func (c *chunkSet) size(id ID) uint32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[id]
}

// forget drops ids claimed by a backup that failed: their packs were never
// indexed, so no later backup may refer to them.
func (c *chunkSet) forget(ids []ID) {
	c.mu.Lock()
	for _, id := range ids {
		delete(c.m, id)
	}
	c.mu.Unlock()
}
