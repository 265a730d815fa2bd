// Package index is strata's deduplicated store: content-defined chunks,
// packs, index files and version manifests on a backends.Backend, plus the
// local Pebble catalog that makes them fast to query. Store is its one
// facade: backups, reads, diffs, restore, retention, prune and check.
//
// Sub-packages hold what can be read on its own: index/format the bytes on
// the backend (the store format), index/catalog the Pebble catalog,
// index/lock the backend's lock objects. They import nothing of index;
// index imports them (catalog imports format, and lock for its check of
// dead processes). Here, by concern: backups in backup.go, session.go,
// spans.go, chunkset.go and packer.go; reads in reader.go and query.go;
// @diff in diff.go and diffcache.go; restore to disk in restore.go;
// retention (the forget policy) in retention.go; prune.go; check.go; the
// Store itself (open, sessions, snapshots, close) in store.go.
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
// The Pebble catalog (index/catalog; its key schema in keys.go there)
// caches indexes and manifests; the backend is the truth and Rebuild
// recreates the catalog from it. Pebble allows one process at a time:
// backups hold it only to load the chunk set and to commit; reads (a
// mount) go to a private snapshot of the catalog (a checkpoint), refreshed
// from the shared catalog after each sync: by Refresh, and after each of
// the Store's own sessions.
package index
