// Package index is strata's deduplicated store: content-defined chunks,
// packs, index files and version manifests on a backends.Backend, plus the
// local Pebble catalog that makes them fast to query.
//
// # Store format
//
//	config                                  JSON: store id, format, chunker parameters and seed, hash, compression
//	packs/<2 hex>/<pack id>                 blobs, then a header (41 bytes per blob: type, chunk id, stored and raw length), its length, magic
//	indexes/<random id>                     zstd JSON: for each pack written by one backup session (or prune), its blobs
//	versions/<cluster>/<db>/<table>/<time>  zstd JSON manifest: object, time, kind, stats, meta, warnings, files and their chunks
//	locks/<random id>                       JSON: who holds the store (backup: shared; prune: exclusive; "commit <object>": one manifest write per object at a time, across hosts)
//
// A chunk's id is the BLAKE3-256 of its raw bytes; it is stored once, zstd
// compressed unless that makes it no smaller. Chunk boundaries come from FastCDC
// over a gear table derived from the store's seed (128 KiB min, 512 KiB
// average, 2 MiB max). Every read decompresses and re-hashes the chunk.
//
// A file in a manifest is a list of references ["chunk id", size] or
// ["chunk id", size, offset]: size bytes of the chunk from offset (0 if
// absent). Content-defined files use whole chunks; row sources (MongoDB)
// write new rows into fresh chunks and refer to unchanged rows inside the
// chunks an earlier version wrote (extents), so one changed 100-byte
// document costs about its own bytes plus two references, not a chunk.
// Extents are store format 2: a format-1 store is moved to 2 (its config
// rewritten) before the first manifest with extents, so that older
// binaries refuse the store rather than misread it.
//
// # Crash safety
//
// A backup writes packs, then its index file, then the manifest; each
// backend Put is atomic. A crash before the manifest leaves unreferenced
// packs (prune deletes them) and never a half version. Prune writes new
// packs and a new index before deleting old indexes and, last, old packs.
//
// # Catalog
//
// The Pebble catalog (keys.go) caches indexes and manifests; the backend
// is the truth and Rebuild recreates the catalog from it. Pebble allows one
// process at a time: backups hold it only to load the chunk set and to
// commit, a mount reads a private checkpoint refreshed from the backend.
package index
