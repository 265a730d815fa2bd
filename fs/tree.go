package fs

import (
	"context"
	"log/slog"
	"slices"
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
	// noOpendir is set when the kernel opens directories without asking
	// (noopendir.go).
	noOpendir atomic.Bool
	// generation counts the changes seen in the object and version
	// lists; the directories above the versions show it in their mtime,
	// so that the kernel drops listings of theirs it keeps.
	generation atomic.Uint64
	// readers serve reads that come without a handle.
	readers *nodeReaders
	// prefetch decodes the files after the one being read; nil when the
	// catalog cannot (prefetch.go).
	prefetch *fileQueue
	// lists reads the listings of directories the kernel was just
	// shown (listahead.go).
	lists listAhead
	// mayBlock is called before work that may be slow (store reads,
	// diffs, catalog refreshes): with busy polling, the request's
	// reader serves no other request meanwhile, so this starts another
	// (fuse.Server.MayBlock). Set once, before serving.
	mayBlock func()

	mu       sync.Mutex
	objs     []index.ObjectRef
	objsAt   time.Time
	versions map[index.ObjectRef]cachedVersions
	// dropped is set once the version-list cache lost entries: a list
	// fetched again after that may differ from the one the kernel keeps
	// without the tree knowing, so it counts as a change.
	dropped bool
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
		versions: map[index.ObjectRef]cachedVersions{}, mayBlock: func() {}}
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
	t.mayBlock()
	objs, err := t.cat.Objects(ctx)
	if err != nil {
		return nil, err
	}
	if objs == nil {
		objs = []index.ObjectRef{}
	}
	t.mu.Lock()
	if t.objs != nil && !slices.Equal(t.objs, objs) {
		t.generation.Add(1)
	}
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
	t.mayBlock()
	list, err := t.cat.Versions(ctx, obj)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if old, ok := t.versions[obj]; ok && !sameVersions(old.list, list) || !ok && t.dropped {
		t.generation.Add(1)
	}
	if len(t.versions) >= maxCachedObjects {
		t.dropOldVersions()
	}
	t.versions[obj] = cachedVersions{list: list, at: time.Now()}
	t.mu.Unlock()
	return list, nil
}

// sameVersions reports whether two version lists name the same versions.
func sameVersions(a, b []index.Version) bool {
	return slices.EqualFunc(a, b, func(x, y index.Version) bool {
		return x.Time.Equal(y.Time) && x.Name == y.Name
	})
}

// changed returns base moved by the generation in nanoseconds: an mtime
// that shows seconds as base does and still differs after any change.
func (t *tree) changed(base time.Time) time.Time {
	return base.Add(time.Duration(t.generation.Load()))
}

// dropOldVersions empties the version-list cache of expired entries, or
// entirely if none has expired. t.mu must be held.
func (t *tree) dropOldVersions() {
	t.dropped = true
	for k, c := range t.versions {
		if time.Since(c.at) >= refreshTimeout {
			delete(t.versions, k)
		}
	}
	if len(t.versions) >= maxCachedObjects {
		clear(t.versions)
	}
}
