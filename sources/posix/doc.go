// Package posix backs up local directory trees (the POSIX source).
//
// A Source is configured with a cluster name, a database name and one or
// more directories, each under a table name; following DESIGN.md a version is
// named <cluster>/<database>/<table>/<time>, where the table is the
// directory's configured relative name ('/' kept, shown as nested
// directories in the mount).
//
// A backup walks the tree with a few walker goroutines that list directories
// and lstat their entries relative to the open directory (fstatat), and a
// pool of workers that open and stream regular files into the Writer. A file
// whose fingerprint (size, mtime, inode, ctime) equals the one recorded in
// the previous version is not opened at all: it is kept by reference.
//
// Names are passed through as raw bytes (invalid UTF-8, control characters
// and 255-byte names included); escaping them is the store's job.
//
// Sockets, devices and FIFOs are skipped with a warning. A file that changes
// size or mtime while it is being read is read once more; if it changes
// again the backup fails naming the file, since a torn copy of a database
// file is worse than no copy.
package posix
