// Package sources defines what every database or filesystem source gives the
// store: the objects it can back up (management objects: a directory, a
// keyspace table, a collection) and, for one backup, the native files of a
// version as streams plus metadata for the manifest.
//
// Sources know nothing of the store or the index: what they need of the
// previous version (to skip unchanged files) comes through Previous, and what
// they produce goes to a Writer. Imports point one way: sources import
// nothing of strata outside this tree.
package sources

import (
	"context"
	"io"
	"time"
)

// Object is one thing that is backed up as a series of versions, named as in
// DESIGN.md: Cluster/Database/Table. Names are the source's raw bytes; the
// store escapes them for paths.
type Object struct {
	Cluster  string
	Database string
	Table    string
	// Meta holds what discovery learnt (a view's pipeline, a table's id)
	// and is recorded in the manifest.
	Meta map[string]string
}

// String returns cluster/db/table for messages.
func (o Object) String() string { return o.Cluster + "/" + o.Database + "/" + o.Table }

// EntryType is the kind of a path in a version.
type EntryType uint8

// Entry types.
const (
	TypeFile EntryType = iota
	TypeDir
	TypeSymlink
)

// Entry is one path of a version: a native file, a directory or a symlink.
type Entry struct {
	// Path is relative to the version root, '/'-separated, without a
	// leading slash; components are raw source bytes (may be invalid UTF-8).
	Path    string
	Type    EntryType
	Mode    uint32 // permission bits (0o7777 mask), as in os.FileMode.Perm plus setuid/setgid/sticky
	ModTime time.Time
	Size    int64  // for files: the exact content length
	Target  string // symlink target
	// Fingerprint is the source's change key (posix: size, mtime, inode).
	// A source compares it with the previous version's to decide whether
	// to read the file again; the store only records it.
	Fingerprint string
	// Owner is who owns the entry, nil when the source has no such notion
	// (a MongoDB collection file). Restore as root applies it.
	Owner *Owner
	// Attrs are what else the source must keep of the entry and the store
	// only records (HDFS replication and block size, ACLs, extended
	// attributes). Keys are namespaced by the source or by convention:
	// "hdfs.replication", "xattr.user.comment", "acl". Values are raw
	// bytes (may be invalid UTF-8).
	Attrs map[string]string
	// HardLink is non-zero for a regular file with several names (hard
	// links) in the source: the names of one file carry the same value,
	// unique within the version, and Nlink is the file's link count
	// there (names outside the backed-up tree included, as `ls -l`
	// counts them). Restore links the names again; the mount shows them
	// as one inode, so `rsync -H` and `cp -a` keep them linked.
	HardLink uint64
	Nlink    uint32
}

// Owner is an entry's owner and group. A source fills in what it knows:
// posix has numeric ids and (where the system resolves them) names, HDFS
// names only.
type Owner struct {
	User  string // user name, "" when unknown
	Group string // group name, "" when unknown
	UID   int64  // numeric user id, -1 when unknown
	GID   int64  // numeric group id, -1 when unknown
}

// VersionInfo is what a stored version says of itself besides its files.
type VersionInfo struct {
	// Time is the version's consistent point (UTC, whole seconds).
	Time time.Time
	// Kind is the source kind that wrote it.
	Kind string
	// Meta is the version's recorded metadata (Object.Meta and
	// Result.Meta).
	Meta map[string]string
}

// Previous is what a source may know of the object's previous version.
type Previous interface {
	// Lookup returns the previous version's entry at path, if any. It is
	// safe for concurrent use (a walk looks up from several goroutines)
	// and may wait while the previous version is still being loaded: a
	// source that visits directories in byte order of their paths waits
	// least (the store loads them in that order).
	Lookup(path string) (Entry, bool)
	// Info returns the previous version's time, kind and metadata; the
	// zero VersionInfo (Time.IsZero()) on a first backup.
	Info() VersionInfo
	// Entries lists every entry of the previous version, sorted by Path
	// (none on a first backup).
	Entries() []Entry
}

// PreviousReader is a Previous that can also read the previous version's
// files. Row sources use it to find the rows that did not change and hand
// them to Writer.AddSpans as ranges of the previous file, so unchanged
// rows cost neither new chunks nor a reference each.
type PreviousReader interface {
	Previous
	// Open returns the content of the previous version's file at path.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
}

// NoPrevious is a Previous for a first backup.
type NoPrevious struct{}

// Lookup always reports false.
func (NoPrevious) Lookup(string) (Entry, bool) { return Entry{}, false }

// Info returns the zero VersionInfo.
func (NoPrevious) Info() VersionInfo { return VersionInfo{} }

// Entries returns nothing.
func (NoPrevious) Entries() []Entry { return nil }

// Event is what a source tells whoever watches a backup while it runs:
// progress in its own units ("ranges", 40 of 256) or a problem ("node
// 127.0.0.3 down, reading its ranges from other replicas"). Events are
// advice for display and logs; what the version lacks still goes into
// Result.Warnings.
type Event struct {
	// Object is the object the event concerns, "" for the whole session.
	Object string
	// Step names what is counted ("ranges", "files") or, for a warning,
	// says what happened.
	Step string
	// Done and Total count Step's units; Total is 0 when unknown.
	Done, Total int64
	// Warning marks a problem rather than progress.
	Warning bool
}

// Reporter receives a source's events. Report must be cheap and safe for
// concurrent use; a source calls it as often as it likes and the receiver
// throttles display.
type Reporter interface {
	Report(Event)
}

// ReporterFunc adapts a function to Reporter.
type ReporterFunc func(Event)

// Report calls f.
func (f ReporterFunc) Report(e Event) { f(e) }

// Discard is a Reporter that drops every event.
var Discard Reporter = ReporterFunc(func(Event) {})

// Writer receives a version's entries. Paths are relative, without empty,
// "." or ".." components; each is added once; directories and symlinks
// have Size 0 and a symlink has a Target. Its methods are safe for concurrent
// use so that a source can read files in parallel; entries may arrive in any
// order, and directories need not be added before their children (missing
// parent directories are created with mode 0755). A directory entry with
// the empty path is the object's own root directory: a file source adds
// it so that restore and the mount give the root the source directory's
// mode, mtime and owner instead of the version time.
type Writer interface {
	// Add stores an entry; for files the content is read from r until EOF,
	// split into content-defined chunks, deduplicated and packed. r is nil
	// for directories and symlinks. Add fails if r yields a different
	// number of bytes than e.Size. When r is also a RangeReader, Add may
	// read a large file by ranges instead (see RangeReader).
	Add(ctx context.Context, e Entry, r io.Reader) error
	// AddSpans stores a file assembled from spans, each either new bytes
	// or a byte range of the previous version's file at the same path.
	// New bytes are packed into chunks of the store's average size (cut
	// only between spans, or at the maximum chunk size); ranges of the
	// previous file are recorded as references to the chunks that hold
	// them, reading and storing nothing. next returns successive spans,
	// then io.EOF; a span's Data may be reused once next is called again
	// (the writer copies what it keeps before that call).
	// e.Size < 0 means "whatever the spans add up to".
	AddSpans(ctx context.Context, e Entry, next func() (Span, error)) error
	// Keep records e with the content of the previous version's entry at
	// e.Path, reading nothing. It fails if the previous version has no
	// such file; e.Size must be that file's size (the store takes the
	// previous size; sourcetest's Writer reports a mismatch as the source
	// bug it is).
	Keep(ctx context.Context, e Entry) error
	// Reporter takes the source's progress and warnings for this object.
	Reporter
}

// SameKeeper is what a Writer may also be, so that a source can keep an
// unchanged file without looking its previous entry up first: on a
// re-backup of a tree of small files that lookup (the previous record
// decoded into an Entry, to compare a fingerprint and be recorded again)
// cost more CPU than anything but the kernel's own work.
type SameKeeper interface {
	// KeepSame keeps e, a regular file, as Keep would, when the previous
	// version recorded the same entry at e.Path (every field equal, the
	// size and fingerprint included), and reports whether it did. When
	// it did not, the source goes on as without it (Lookup, then Keep or
	// Add).
	KeepSame(ctx context.Context, e Entry) (bool, error)
}

// RangeReader is what the reader handed to Writer.Add may also be, so
// that the Writer can read a large file's ranges at once (a changed
// multi-gigabyte file otherwise goes through one goroutine while the
// other cores wait for it): ReadAt from several goroutines, never past
// the entry's size, instead of Read. The Writer then calls ReadAtDone
// with the bytes it read in all, once every range is read; it fails, as
// Read would have, when the file changed meanwhile (the source reads the
// file again). A reader is read one way or the other, not both.
type RangeReader interface {
	io.ReaderAt
	ReadAtDone(read int64) error
}

// Span is one part of a file written with Writer.AddSpans: new bytes in
// Data, or (Data empty) Len bytes of the previous version's file at the
// same path, starting at Off.
type Span struct {
	Data     []byte
	Off, Len int64
}

// Result is what a finished backup tells the manifest.
type Result struct {
	// At is the version's consistent point; the version is named by it,
	// truncated to the second, in UTC.
	At time.Time
	// LogicalBytes is what a per-node copy would have taken (all
	// replicas); zero means "the same as the stored files".
	LogicalBytes int64
	// Meta is recorded in the manifest (never secrets).
	Meta map[string]string
	// Warnings say what the version lacks (a dead node, a fuzzy copy).
	Warnings []string
}

// Source is implemented once per kind of database or filesystem.
type Source interface {
	// Kind is the source's type name as used in configs: "posix", "mongodb".
	Kind() string
	// Discover lists the objects this source can back up.
	Discover(ctx context.Context) ([]Object, error)
	// Backup writes one version of obj to w. It must not return before
	// every Add has returned. A returned error means the version must not
	// be committed. Each call is its own consistent point; a source that
	// can read several objects at one point implements SessionSource.
	Backup(ctx context.Context, obj Object, prev Previous, w Writer) (Result, error)
	// Close releases connections; the source is not used afterwards.
	Close() error
}

// SessionSource is a Source that backs up several objects at one
// consistent point: a Cassandra scan at one start time, a PostgreSQL
// exported snapshot shared by every table of a database, one HDFS
// snapshot of a directory tree. Begin takes the point (and whatever the
// source holds for it); every Backup of the session reads at it, and the
// versions it makes are named by Session.At.
type SessionSource interface {
	Source
	Begin(ctx context.Context, objs []Object, r Reporter) (Session, error)
}

// Session is one backup run of a SessionSource over a set of objects.
// Backup may be called once per object of the set, one at a time or
// concurrently; Close releases the consistent point (drops a snapshot,
// ends a transaction) and is called even after a failure.
type Session interface {
	// At is the session's consistent point.
	At() time.Time
	Backup(ctx context.Context, obj Object, prev Previous, w Writer) (Result, error)
	Close() error
}

// Begin opens a backup session over objs: src's own when it is a
// SessionSource, else one where each object is its own consistent point.
func Begin(ctx context.Context, src Source, objs []Object, r Reporter) (Session, error) {
	if ss, ok := src.(SessionSource); ok {
		return ss.Begin(ctx, objs, r)
	}
	return perObject{src}, nil
}

// perObject is the session of a Source without sessions.
type perObject struct{ src Source }

func (p perObject) At() time.Time { return time.Time{} }
func (p perObject) Backup(ctx context.Context, obj Object, prev Previous, w Writer) (Result, error) {
	return p.src.Backup(ctx, obj, prev, w)
}
func (p perObject) Close() error { return nil }

// VersionReader gives a Differ or a Loader read access to one stored
// version.
type VersionReader interface {
	// Info returns the version's time, kind and metadata.
	Info() VersionInfo
	// Entries lists every entry of the version, sorted by Path.
	Entries() []Entry
	// Open returns the content of the file at path.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
}

// Differ is implemented by row sources whose @diff directory is not a file
// comparison: given two versions of an object, it writes the native files of
// what changed in (from, to] to w, in the same format as a version, so the
// database's loader applies them. File sources do not implement it; the
// mount then shows the files added or changed plus ".deleted".
type Differ interface {
	Diff(ctx context.Context, from, to VersionReader, w Writer) error
}
