// Package catalog is the store's local Pebble catalog: a cache of the
// backend's index files (where each chunk is) and manifests (versions and
// their files), rebuildable from the backend alone. It holds the key
// schema (keys.go: the only place a key is built or sliced), typed reads
// and iterators over it, the sync with the backend (sync.go), and the
// read snapshots (snapshots.go): private checkpoints of the shared
// catalog that a Store's reads go to while the shared one is synced.
//
// It is separate from index so that everything that touches Pebble, and
// the key layout a reader must know to follow it, is in one place; index
// asks it typed questions (Versions, Lookup, EachChunk...) and never sees
// a key. It depends on index/format for the values it stores and on
// backends for the sync.
package catalog
