package format

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stratabackup/strata/backends"
)

// FormatVersion is the store format this code writes. Format 2 added
// extents (a file referring to part of a chunk, see doc.go); format 3 added
// entry owners and attributes; format 4 stores a version's file list as
// chunks in packs (Manifest.FileList), shared with the versions that list
// the same entries; format 5 writes a chunk a file names again as a back
// reference to its earlier mention (a table's file after scattered
// updates names the same old chunks hundreds of thousands of times). An older store is read as is and moved to
// FormatVersion by the first backup that writes what its format lacks (an
// extent in a format-1 store, an owner or attribute in a format-1 or 2
// store), so that older strata binaries refuse the store instead of
// misreading extents or, worse for a restore, silently dropping owners.
const FormatVersion = 5

// The first formats that hold extents, and owners and attributes: what a
// Version needs of its store.
const (
	FormatExtents  = 2
	FormatOwners   = 3
	FormatFileList = 4
	FormatBackRefs = 5
)

// minFormat is the oldest store format this code reads.
const minFormat = 1

// Config is the store's "config" object: what every reader must know before
// it can read anything else.
type Config struct {
	ID          string        `json:"id"`
	Format      int           `json:"format"`
	Chunker     ChunkerParams `json:"chunker"`
	Hash        string        `json:"hash"`
	Compression string        `json:"compression"` // "zstd", or "none" (strata init --compression off)
	// Encryption names the encryption scheme; "none" in format 1. Keys
	// would never be stored here in clear.
	Encryption string    `json:"encryption"`
	Created    time.Time `json:"created"`
	// CompressionLevel is the zstd level chunks are written with,
	// "fastest" or "better"; absent for the default. See Config.Level.
	CompressionLevel string `json:"compression_level,omitempty"`
}

// ErrNoStore is returned by Open when the backend holds no store config.
var ErrNoStore = errors.New("no strata store here (run `strata init` first)")

// InitOptions are the choices `strata init` makes for a new store.
type InitOptions struct {
	// Compression is the level its chunks are written with (one of
	// CompressionLevels); "" is the default.
	Compression string
}

// Init creates a new store on an empty backend with the default options.
// It refuses a backend that already holds a config.
func Init(ctx context.Context, be backends.Backend) (Config, error) {
	return InitWith(ctx, be, InitOptions{})
}

// InitWith creates a new store on an empty backend with options o.
func InitWith(ctx context.Context, be backends.Backend, o InitOptions) (Config, error) {
	level, err := ParseCompression(o.Compression)
	if err != nil {
		return Config{}, fmt.Errorf("init %s: %w", be.Location(), err)
	}
	if _, err := be.Stat(ctx, "config"); err == nil {
		return Config{}, fmt.Errorf("init %s: a store already exists there", be.Location())
	} else if !errors.Is(err, backends.ErrNotFound) {
		return Config{}, fmt.Errorf("init %s: %w", be.Location(), err)
	}
	var rnd [24]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return Config{}, err
	}
	cfg := Config{
		ID:          hex.EncodeToString(rnd[:16]),
		Format:      FormatVersion,
		Chunker:     DefaultChunkerParams(binary.LittleEndian.Uint64(rnd[16:])),
		Hash:        "blake3-256",
		Compression: "zstd",
		Encryption:  "none",
		Created:     time.Now().UTC().Truncate(time.Second),
	}
	cfg.setLevel(level)
	data, _ := json.MarshalIndent(cfg, "", "  ")
	if err := be.Put(ctx, "config", data); err != nil {
		return Config{}, fmt.Errorf("init %s: write config: %w", be.Location(), err)
	}
	return cfg, nil
}

// LoadConfig reads and checks the store's config: a format this code
// reads and valid chunker parameters.
func LoadConfig(ctx context.Context, be backends.Backend) (Config, error) {
	data, err := ReadRange(ctx, be, "config", 0, -1)
	if errors.Is(err, backends.ErrNotFound) {
		return Config{}, fmt.Errorf("open %s: %w", be.Location(), ErrNoStore)
	}
	if err != nil {
		return Config{}, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	var cfg Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("open %s: parse config: %w", be.Location(), err)
	}
	if cfg.Format < minFormat || cfg.Format > FormatVersion {
		return Config{}, fmt.Errorf("open %s: store format %d, this strata reads formats %d to %d (a newer strata wrote it?)", be.Location(), cfg.Format, minFormat, FormatVersion)
	}
	if err := cfg.Chunker.validate(); err != nil {
		return Config{}, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	if err := cfg.checkCompression(); err != nil {
		return Config{}, fmt.Errorf("open %s: %w", be.Location(), err)
	}
	return cfg, nil
}

// RandomID names a new object (index files, locks): 16 random bytes in hex.
func RandomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
