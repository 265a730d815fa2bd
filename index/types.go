package index

import (
	"context"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// The store's value types live in index/format, next to the bytes they
// describe; they keep their names here, where callers (fs, daemon, cmd)
// have always found them.
type (
	// ID is a chunk's content address: the BLAKE3-256 hash of its raw bytes.
	ID = format.ID
	// ObjectRef names a backed-up object: cluster/database/table.
	ObjectRef = format.ObjectRef
	// Version is one complete backup of an object.
	Version = format.Version
	// Stats are a version's sizes, recorded in its manifest.
	Stats = format.Stats
	// File is one entry of a version with where its content lives.
	File = format.File
	// ChunkRef is one piece of a file's content.
	ChunkRef = format.ChunkRef
	// Config is the store's "config" object.
	Config = format.Config
)

// FormatVersion is the store format this code writes.
const FormatVersion = format.FormatVersion

// Errors callers test with errors.Is.
var (
	// ErrNotFound is returned (wrapped) when a version, path or chunk does
	// not exist.
	ErrNotFound = format.ErrNotFound
	// ErrCorrupt is returned (wrapped) when stored bytes do not hash to
	// their address.
	ErrCorrupt = format.ErrCorrupt
	// ErrNoStore is returned by Open when the backend holds no store config.
	ErrNoStore = format.ErrNoStore
)

// TimeName formats a version time as it appears in names:
// 2026-11-24T10:00:00Z.
func TimeName(t time.Time) string { return format.TimeName(t) }

// Init creates a new store on an empty backend. It refuses a backend that
// already holds a config.
func Init(ctx context.Context, be backends.Backend) (Config, error) { return format.Init(ctx, be) }

// InitOptions are the choices `strata init` makes for a new store.
type InitOptions = format.InitOptions

// CompressionLevels lists the compression levels a new store may use.
func CompressionLevels() []string { return format.CompressionLevels() }

// NewStoreCompression is the level of a store made without a choice.
const NewStoreCompression = format.NewStoreCompression

// InitWith creates a new store with options o (compression level).
func InitWith(ctx context.Context, be backends.Backend, o InitOptions) (Config, error) {
	return format.InitWith(ctx, be, o)
}

// RootEntry is the entry of a version's root directory: the source
// directory's own mode, mtime and owner where the source recorded them,
// else 0755 and the version time.
func RootEntry(v Version) sources.Entry { return format.RootEntry(v) }
