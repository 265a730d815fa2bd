package format

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/stratabackup/strata/sources"
)

// ID is a chunk's content address: the BLAKE3-256 hash of its raw bytes.
type ID [32]byte

// String returns the hash in lower-case hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// MarshalText writes the id as hex in JSON (index files), not as an array
// of 32 numbers.
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText reads a hex id.
func (id *ID) UnmarshalText(b []byte) error {
	if len(b) != 64 {
		return fmt.Errorf("bad chunk id %q", b)
	}
	_, err := hex.Decode(id[:], b)
	return err
}

// ObjectRef names a backed-up object: cluster/database/table, raw names as
// the source gave them ('/' in Table separates nested directory levels).
type ObjectRef struct {
	Cluster  string `json:"cluster"`
	Database string `json:"database"`
	Table    string `json:"table"`
}

// String returns cluster/db/table for messages.
func (o ObjectRef) String() string { return o.Cluster + "/" + o.Database + "/" + o.Table }

// Stats are a version's sizes, recorded in its manifest.
type Stats struct {
	Files int64 `json:"files"`
	Dirs  int64 `json:"dirs"`
	// Bytes is the sum of the version's file sizes.
	Bytes int64 `json:"bytes"`
	// LogicalBytes is what a per-node copy would have taken (replicas
	// included); equals Bytes for sources without replicas.
	LogicalBytes int64 `json:"logical_bytes"`
	// StoredBytes is the compressed size of the distinct chunks the
	// Version references, wherever they were first stored.
	StoredBytes int64 `json:"stored_bytes"`
	// NewBytes is the compressed size of the chunks this backup added to
	// the store (what the version cost).
	NewBytes  int64 `json:"new_bytes"`
	Chunks    int64 `json:"chunks"`
	NewChunks int64 `json:"new_chunks"`
	// ReadBytes is what the source actually read (unchanged files are not).
	ReadBytes int64   `json:"read_bytes"`
	Seconds   float64 `json:"seconds"`
	// ChangedFiles are the files whose content this backup wrote (new or
	// changed since the previous version), not kept unchanged: what
	// changed in the interval, for analytics.
	ChangedFiles int64 `json:"changed_files,omitempty"`
}

// Version is one complete backup of an object.
type Version struct {
	Object ObjectRef `json:"object"`
	// Time is the consistent point, UTC, whole seconds; it names the version.
	Time time.Time `json:"time"`
	// Kind is the source kind ("posix", "mongodb").
	Kind string `json:"kind"`
	// Name is the manifest's name on the backend.
	Name     string            `json:"name"`
	Stats    Stats             `json:"stats"`
	Meta     map[string]string `json:"meta,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	// Root is the version's root directory as the source recorded it
	// (see RootEntry).
	Root *FileRecord `json:"root,omitempty"`
	// FileList are the chunks holding the version's file list (format 4):
	// referenced data, which prune keeps and check verifies like files'.
	FileList []ChunkRef `json:"file_list,omitempty"`
}

// TimeName formats a version time as it appears in names:
// 2026-11-24T10:00:00Z.
func TimeName(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ChunkRef is one piece of a file's content, in order: Size raw bytes of
// chunk ID starting at Off. Files written by Add use whole
// chunks (Off 0, Size the chunk's length); AddSpans also writes extents,
// parts of a chunk, so that a row source's unchanged rows are referenced
// where an earlier version stored them.
type ChunkRef struct {
	ID   ID     `json:"id"`
	Size uint32 `json:"size"`
	Off  uint32 `json:"off,omitempty"`
}

// File is one entry of a version with where its content lives.
type File struct {
	sources.Entry
	Chunks []ChunkRef
	// Content holds the bytes of a file computed in memory (a row
	// source's @diff), which has no chunks in the store.
	Content []byte `json:"-"`
}

// ErrNotFound is returned (wrapped) when a version, path or chunk does not
// exist. Test with errors.Is.
var ErrNotFound = errors.New("not found")

// ErrCorrupt is returned (wrapped) when stored bytes do not hash to their
// address: the backend returned damaged data.
var ErrCorrupt = errors.New("content does not match its hash (corrupt)")

// ErrUndecodable is returned (wrapped) when stored bytes do not decode: a
// chunk zstd refuses, a blob of unknown type, a manifest or index file
// that is not compressed JSON. Like ErrCorrupt it means damage, not an
// unreachable backend.
var ErrUndecodable = errors.New("damaged: not as strata writes it")
