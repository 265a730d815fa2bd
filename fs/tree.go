package fs

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratabackup/strata/index"
)

// tree is what every node of one mount shares: the catalog, the logger,
// the owner shown, and short-lived caches of the object and version lists
// so that a readdirplus of a level does not list the catalog once per
// entry.
type tree struct {
	cat     Catalog
	log     *slog.Logger
	owner   owner
	started time.Time
	// noOpen is set when the kernel opens files without asking (noopen.go).
	noOpen atomic.Bool
	// readers serve reads that come without a handle.
	readers *nodeReaders
	// prefetch decodes the files after the one being read; nil when the
	// catalog cannot (prefetch.go).
	prefetch *fileQueue
	// lists reads the listings of directories the kernel was just
	// shown (listahead.go).
	lists listAhead

	mu       sync.Mutex
	objs     []index.ObjectRef
	objsAt   time.Time
	versions map[index.ObjectRef]cachedVersions
}

type cachedVersions struct {
	list []index.Version
	at   time.Time
}

// maxCachedObjects bounds the version-list cache; older entries are
// dropped when it is full.
const maxCachedObjects = 1024

func newTree(cat Catalog, log *slog.Logger, o owner) *tree {
	t := &tree{cat: cat, log: log, owner: o, started: time.Now(), readers: newNodeReaders(),
		versions: map[index.ObjectRef]cachedVersions{}}
	if p, ok := cat.(prefetcher); ok {
		t.prefetch = &fileQueue{p: p, open: cat.OpenFile}
	}
	return t
}

// objects returns every object, at most refreshTimeout old.
func (t *tree) objects(ctx context.Context) ([]index.ObjectRef, error) {
	t.mu.Lock()
	if t.objs != nil && time.Since(t.objsAt) < refreshTimeout {
		objs := t.objs
		t.mu.Unlock()
		return objs, nil
	}
	t.mu.Unlock()
	objs, err := t.cat.Objects(ctx)
	if err != nil {
		return nil, err
	}
	if objs == nil {
		objs = []index.ObjectRef{}
	}
	t.mu.Lock()
	t.objs, t.objsAt = objs, time.Now()
	t.mu.Unlock()
	return objs, nil
}

// versionsOf returns obj's versions, oldest first, at most
// refreshTimeout old.
func (t *tree) versionsOf(ctx context.Context, obj index.ObjectRef) ([]index.Version, error) {
	t.mu.Lock()
	c, ok := t.versions[obj]
	t.mu.Unlock()
	if ok && time.Since(c.at) < refreshTimeout {
		return c.list, nil
	}
	list, err := t.cat.Versions(ctx, obj)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if len(t.versions) >= maxCachedObjects {
		t.dropOldVersions()
	}
	t.versions[obj] = cachedVersions{list: list, at: time.Now()}
	t.mu.Unlock()
	return list, nil
}

// dropOldVersions empties the version-list cache of expired entries, or
// entirely if none has expired. t.mu must be held.
func (t *tree) dropOldVersions() {
	for k, c := range t.versions {
		if time.Since(c.at) >= refreshTimeout {
			delete(t.versions, k)
		}
	}
	if len(t.versions) >= maxCachedObjects {
		clear(t.versions)
	}
}
