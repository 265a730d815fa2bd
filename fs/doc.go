// Package fs shows the store's versions as a read-only FUSE tree
// (go-fuse v2), reading everything through the Catalog interface.
//
// Layout of the mounted tree (DESIGN.md, "The mounted tree"):
//
//	<mount>/<cluster>/<db>/<table...>/
//	    2026-11-24T10:00:00Z/   one directory per version, with its files
//	    latest -> 2026-11-24T12:00:00Z
//	    @at/<time>              -> ../<newest version at or before <time>>
//	    @diff/<t1>..<t2>/       what changed in (t1, t2], plus ".deleted"
//
// A table name containing '/' becomes nested directories; one directory
// level may be both a table (holding versions) and the parent of deeper
// tables. Where a version name or one of "latest", "@at", "@diff" equals
// a deeper table's name, the table-level entry wins.
//
// Every name component shown is sources.EscapeName of the raw name, and
// Lookup maps a shown name back with sources.UnescapeName, or through the
// directory listing for names sources.IsShortened cut to 255 bytes.
//
// <time> in @at and @diff is RFC 3339 (2026-11-24T10:00:00Z), a date
// (2026-11-24, meaning the end of that day, UTC, inclusive) or unix
// seconds. @at and @diff resolve names only on Lookup; their listings are
// empty. In @diff, a t1 before the first version means "from nothing".
// ".deleted" in a diff's root lists the removed raw paths, one per line,
// newline-terminated; a path that itself contains a newline is written
// escaped with sources.EscapePath instead (so such a line is ambiguous
// with a raw path that happens to contain "%0A"). A file named ".deleted"
// at the root of a diff's tree is hidden by the list.
//
// Caching: version contents never change, so entries, attributes and
// misses inside versions are cached by the kernel for an hour, opened files
// keep the page cache (FOPEN_KEEP_CACHE) and version directory listings
// are kept by the kernel (FOPEN_CACHE_DIR) and in the node. The levels
// above versions (clusters, databases, tables, version lists, latest, @at,
// @diff entries) use one-second timeouts so that new versions appear;
// where the kernel keeps their listings too (directories opened without
// the daemon, noopendir.go), their mtime moves with every change seen.
// Small files that follow the one being read in its directory are
// decoded ahead and pushed into the page cache (prefetch.go), so a tar
// or cp -r of them mostly reads what the kernel holds already; the
// listings of directories a listing shows are read ahead too
// (listahead.go), so ls -lR, find or rsync finds them ready.
// Inode numbers are a hash of the version and the path, stable across
// mounts. Directories report nlink 1 ("unknown", as btrfs does), so tools
// do not derive a subdirectory count from it.
package fs
