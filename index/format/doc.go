// Package format is strata's store format: the bytes a store keeps on a
// backends.Backend and the value types read from them. It holds chunk ids
// and hashing, the FastCDC chunker, blob encoding, the pack layout, index
// files, version manifests and the config with its format versions.
//
// It is separate from index so that what is written to a backend, and so
// must stay readable by every later strata, can be read in one place,
// apart from how the store uses it (sessions, catalog, retention). It
// depends on backends and the sources seam only.
//
// # Store format
//
//	config                                  JSON: store id, format, chunker parameters and seed, hash, compression and its level (compression_level, see compression.go)
//	packs/<2 hex>/<pack id>                 blobs, then a header (41 bytes per blob: type, chunk id, stored and raw length), its length, magic
//	indexes/<random id>                     zstd JSON: for each pack written by one backup session (or prune), its blobs
//	versions/<cluster>/<db>/<table>/<time>  zstd JSON manifest: object, time, kind, stats, meta, warnings, root, and the files (owner, attributes) with their chunks: inline in "files" up to format 3, since format 4 in "file_list", the chunks (in packs, like file data) of the list as JSON lines, one record per line in path order
//	locks/<random id>                       JSON: who holds the store (index/lock; backup: shared; prune: exclusive; "commit <object>": one manifest write per object at a time, across hosts)
//
// A chunk's id is the BLAKE3-256 of its raw bytes; it is stored once, zstd
// compressed at the store's level unless that makes it no smaller (raw
// when the store was made with `strata init --compression off`). Chunk
// boundaries come from FastCDC over a gear table derived from the store's
// seed (128 KiB min, 512 KiB average, 2 MiB max). Every read decompresses and re-hashes the chunk.
//
// A file in a manifest is a list of references ["chunk id", size] or
// ["chunk id", size, offset]: size bytes of the chunk from offset (0 if
// absent). Content-defined files use whole chunks; row sources (MongoDB)
// write new rows into fresh chunks and refer to unchanged rows inside the
// chunks an earlier version wrote (extents), so one changed 100-byte
// document costs about its own bytes plus two references, not a chunk.
// Extents are store format 2. A chunk the list named before is written
// [back, size] or [back, size, offset], back the distance to the
// reference before it that names the chunk (store format 5, written only
// by a version that needs it): after 5% of scattered updates a 1 GiB
// table's file is 672,651 extents into 1,824 chunks, 54.0 MB of
// record with every id spelled out, 10.4 MB with back references.
//
// A file record may also carry its owner and attributes (store format 3):
// "owner": [uid, gid] or [uid, gid, "user", "group"], -1 for an id and ""
// for a name the source did not know (names are raw bytes, {"b64": ...}
// when not UTF-8), and
// "attrs": [[key, value], ...] sorted by key, keys namespaced by the
// source ("hdfs.replication", "xattr.user.comment"), both raw bytes.
// Entries without them (format 1 and 2 records, MongoDB files) leave the
// fields out. Restore as root applies the owner (by name where the name
// exists on the restoring machine, else by id); the mount shows it.
//
// The config's format is the newest this store may hold. An older store is
// read as is and moved to the current format (its config rewritten) by
// its first backup with this code, which stores the version's file list
// as chunks (format 4; format 2 added extents, format 3 owners and
// attributes). Older binaries then refuse the store ("store format 4,
// this strata reads formats 1 to 3") rather than see versions without
// files, misread extents or restore without owners. A version's file list
// is cut with FileListChunkerParams, so versions whose entries did not
// change share its chunks; prune keeps them (the catalog's versions name
// them) and check attributes their damage to "the version's file list".
package format
