package index

import (
	"container/list"
	"context"
	"errors"
	"sync"
)

// lruFlight keeps loaded values by key, least recently used out first,
// while what they hold stays within max (the newest value is always kept,
// however big), and makes concurrent callers of one key share one load.
// It backs both the chunk cache and the diff cache.
type lruFlight[K comparable, V any] struct {
	costOf  func(K, V) cost // what a value holds; called unlocked
	evicted func([]V)       // if set, called unlocked with evicted values

	mu       sync.Mutex
	max, cur cost
	lru      *list.List // of *flightEntry[K, V], front = newest
	m        map[K]*flightEntry[K, V]
}

// cost is what cached values hold: estimated heap bytes and disk bytes.
// A cache is over its bound when either exceeds the maximum.
type cost struct{ mem, disk int64 }

type flightEntry[K comparable, V any] struct {
	key   K
	val   V
	cost  cost
	err   error
	ready chan struct{}
	elem  *list.Element // nil while loading
}

func newLRUFlight[K comparable, V any](max cost, costOf func(K, V) cost, evicted func([]V)) *lruFlight[K, V] {
	return &lruFlight[K, V]{costOf: costOf, evicted: evicted, max: max, lru: list.New(), m: map[K]*flightEntry[K, V]{}}
}

// get returns the value under key, calling load once for concurrent
// callers. A caller that waited on another's load which failed because
// that caller's context ended (a cancelled read-ahead) loads again under
// its own; a caller whose own ctx ends stops waiting.
func (c *lruFlight[K, V]) get(ctx context.Context, key K, load func() (V, error)) (V, error) {
	for {
		e, mine := c.entry(key)
		if mine {
			return c.fill(e, load)
		}
		select {
		case <-e.ready:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if e.err != nil && ctx.Err() == nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
			continue
		}
		return e.val, e.err
	}
}

// entry returns key's entry, made the newest, or a new one the caller
// must fill (mine).
func (c *lruFlight[K, V]) entry(key K) (e *flightEntry[K, V], mine bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[key]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		return e, false
	}
	e = &flightEntry[K, V]{key: key, ready: make(chan struct{})}
	c.m[key] = e
	return e, true
}

// fill loads a new entry's value and wakes its waiters. A failed load is
// not kept.
func (c *lruFlight[K, V]) fill(e *flightEntry[K, V], load func() (V, error)) (V, error) {
	defer close(e.ready)
	e.val, e.err = load()
	if e.err != nil {
		c.mu.Lock()
		delete(c.m, e.key) // before waiters wake: a retry loads afresh
		c.mu.Unlock()
		var zero V
		return zero, e.err
	}
	e.cost = c.costOf(e.key, e.val)
	c.insert(e)
	return e.val, nil
}

// insert makes a loaded entry the newest and evicts the oldest ones while
// the cache is over its bound.
func (c *lruFlight[K, V]) insert(e *flightEntry[K, V]) {
	var gone []V
	c.mu.Lock()
	e.elem = c.lru.PushFront(e)
	c.cur.mem += e.cost.mem
	c.cur.disk += e.cost.disk
	for (c.cur.mem > c.max.mem || c.cur.disk > c.max.disk) && c.lru.Len() > 1 {
		old := c.lru.Remove(c.lru.Back()).(*flightEntry[K, V])
		delete(c.m, old.key)
		c.cur.mem -= old.cost.mem
		c.cur.disk -= old.cost.disk
		if c.evicted != nil {
			gone = append(gone, old.val)
		}
	}
	c.mu.Unlock()
	if len(gone) > 0 {
		c.evicted(gone)
	}
}

// peek returns a kept value without loading it.
func (c *lruFlight[K, V]) peek(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || e.elem == nil {
		var zero V
		return zero, false
	}
	c.lru.MoveToFront(e.elem)
	return e.val, true
}

// usage reports what the kept values hold and how many there are.
func (c *lruFlight[K, V]) usage() (mem, disk int64, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur.mem, c.cur.disk, c.lru.Len()
}

// clear forgets every value, without calling evicted.
func (c *lruFlight[K, V]) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Init()
	clear(c.m)
	c.cur = cost{}
}
