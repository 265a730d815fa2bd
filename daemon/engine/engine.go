package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

// ErrBadInput marks errors in what the caller asked for: an unknown kind,
// a missing setting, a malformed name or range. Test with errors.Is.
var ErrBadInput = errors.New("bad input")

// ErrNoStore is returned (wrapped) when the store location holds no store.
var ErrNoStore = index.ErrNoStore

// badInput returns an error that wraps ErrBadInput and reads as msg.
func badInput(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Is(target error) bool {
	return target == ErrBadInput
}

// Options say which store the engine works on.
type Options struct {
	// Store is the store's location: a local directory or an rclone
	// remote (remote:path, :s3,...:bucket/dir).
	Store string
	// CacheDir holds the local catalog; "" means index.DefaultCacheDir.
	CacheDir string
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Retries is how often a failed backend call is retried; default 5.
	Retries int
}

// Engine runs workflows on one store. It opens the store once, at the
// first workflow, and serves every later one from it: one Store backs up,
// mounts, restores and prunes at once (reads use a private snapshot of the
// catalog, writes the shared catalog for short moments), so a long-running
// process holds one catalog, not one per job. Close releases it.
type Engine struct {
	opts Options

	mu sync.Mutex
	st *index.Store
}

// New checks opts; it touches nothing until a workflow runs.
func New(opts Options) (*Engine, error) {
	if opts.Store == "" {
		return nil, badInput("no store given: use --store DIR (or STRATA_STORE=DIR); `strata init` creates one")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Retries <= 0 {
		opts.Retries = 5
	}
	return &Engine{opts: opts}, nil
}

// backend opens the store's location.
func (e *Engine) backend(ctx context.Context) (backends.Backend, error) {
	be, err := backends.Open(ctx, e.opts.Store)
	if err != nil {
		return nil, err
	}
	return backends.Retry(be, e.opts.Retries), nil
}

// store returns the engine's store, opening it on first use. Detached
// mode: the shared catalog is held only for short moments, so other
// processes back up and prune alongside, and the read snapshot is made
// at the first read.
func (e *Engine) store(ctx context.Context) (*index.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st != nil {
		return e.st, nil
	}
	be, err := e.backend(ctx)
	if err != nil {
		return nil, err
	}
	st, err := index.Open(ctx, be, e.storeOptions(index.Detached))
	if err != nil {
		return nil, err
	}
	e.st = st
	return st, nil
}

// Close releases the store; the engine may be used again afterwards (it
// reopens the store).
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st == nil {
		return nil
	}
	err := e.st.Close()
	e.st = nil
	return err
}

func (e *Engine) storeOptions(mode index.Mode) index.Options {
	return index.Options{CacheDir: e.opts.CacheDir, Mode: mode, Differs: sources.Differs(), Logger: e.opts.Logger}
}

// Init creates a new, empty store.
func (e *Engine) Init(ctx context.Context) (index.Config, string, error) {
	return e.InitWith(ctx, index.InitOptions{})
}

// InitOptions are a new store's choices (`strata init --compression`).
type InitOptions = index.InitOptions

// CompressionLevels lists the levels InitOptions.Compression takes.
func CompressionLevels() []string { return index.CompressionLevels() }

// NewStoreCompression is the level of a store made without a choice.
const NewStoreCompression = index.NewStoreCompression

// InitWith is Init with options (`strata init --compression`).
func (e *Engine) InitWith(ctx context.Context, o InitOptions) (index.Config, string, error) {
	be, err := e.backend(ctx)
	if err != nil {
		return index.Config{}, "", err
	}
	cfg, err := index.InitWith(ctx, be, o)
	return cfg, be.Location(), err
}

// Rebuild deletes the local catalog and recreates it from the store
// alone; it returns how many versions it found.
func (e *Engine) Rebuild(ctx context.Context) (int, string, error) {
	if err := e.Close(); err != nil {
		return 0, "", err
	}
	be, err := e.backend(ctx)
	if err != nil {
		return 0, "", err
	}
	st, err := index.Rebuild(ctx, be, e.storeOptions(index.Held))
	if err != nil {
		return 0, "", err
	}
	defer st.Close()
	vs, err := st.AllVersions(ctx)
	return len(vs), be.Location(), err
}
