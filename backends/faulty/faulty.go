// Package faulty wraps a backends.Backend to inject failures and count
// calls, so tests can show how the store behaves when its backend fails:
// a Put that fails halfway through a backup, packs that cannot be read.
package faulty

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/stratabackup/strata/backends"
)

// ErrInjected is the error injected when a rule gives none. It is
// transient: backends.IsRetryable reports true for it.
var ErrInjected = errors.New("injected fault")

// Op names a Backend method.
type Op string

// The operations rules apply to and calls are counted for.
const (
	Put    Op = "put"
	Get    Op = "get"
	List   Op = "list"
	Stat   Op = "stat"
	Delete Op = "delete"
)

// rule makes matching calls fail with err.
type rule struct {
	op     Op
	nth    int    // fail only the nth call counted from when the rule was added; 0: any call
	prefix string // fail only names (list: prefixes) starting with prefix
	err    error
}

// Backend embeds the Backend it wraps; methods it does not override pass
// through. The zero value is not usable; call New.
type Backend struct {
	backends.Backend
	mu    sync.Mutex
	calls map[Op]int
	rules []rule
}

var _ backends.Backend = (*Backend)(nil)

// New wraps b with no faults configured.
func New(b backends.Backend) *Backend {
	return &Backend{Backend: b, calls: map[Op]int{}}
}

// FailNth makes the nth call of op from now on fail with err (ErrInjected
// if nil), once: FailNth(faulty.Put, 1, nil) fails the next Put.
func (b *Backend) FailNth(op Op, n int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = append(b.rules, rule{op: op, nth: b.calls[op] + n, err: orInjected(err)})
}

// FailPrefix makes every call of op on a name starting with prefix fail
// with err (ErrInjected if nil) until Reset.
func (b *Backend) FailPrefix(op Op, prefix string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = append(b.rules, rule{op: op, prefix: prefix, err: orInjected(err)})
}

// Reset removes every rule; counts are kept.
func (b *Backend) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rules = nil
}

// Calls returns how many times op was called, failed calls included.
func (b *Backend) Calls(op Op) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[op]
}

// check counts a call and returns the injected error for it, if any.
func (b *Backend) check(op Op, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls[op]++
	n := b.calls[op]
	for i, r := range b.rules {
		if r.op != op || !strings.HasPrefix(name, r.prefix) {
			continue
		}
		if r.nth == 0 {
			return fmt.Errorf("%s %s: %w", op, name, r.err)
		}
		if r.nth == n {
			b.rules = append(b.rules[:i], b.rules[i+1:]...)
			return fmt.Errorf("%s %s: %w", op, name, r.err)
		}
	}
	return nil
}

func orInjected(err error) error {
	if err == nil {
		return ErrInjected
	}
	return err
}

// Put fails if a rule says so, else passes through.
func (b *Backend) Put(ctx context.Context, name string, data []byte) error {
	if err := b.check(Put, name); err != nil {
		return err
	}
	return b.Backend.Put(ctx, name, data)
}

// Get fails if a rule says so, else passes through.
func (b *Backend) Get(ctx context.Context, name string, off, length int64) (io.ReadCloser, error) {
	if err := b.check(Get, name); err != nil {
		return nil, err
	}
	return b.Backend.Get(ctx, name, off, length)
}

// List fails if a rule matches prefix, else passes through.
func (b *Backend) List(ctx context.Context, prefix string, fn func(backends.ObjectInfo) error) error {
	if err := b.check(List, prefix); err != nil {
		return err
	}
	return b.Backend.List(ctx, prefix, fn)
}

// Stat fails if a rule says so, else passes through.
func (b *Backend) Stat(ctx context.Context, name string) (backends.ObjectInfo, error) {
	if err := b.check(Stat, name); err != nil {
		return backends.ObjectInfo{}, err
	}
	return b.Backend.Stat(ctx, name)
}

// Delete fails if a rule says so, else passes through.
func (b *Backend) Delete(ctx context.Context, name string) error {
	if err := b.check(Delete, name); err != nil {
		return err
	}
	return b.Backend.Delete(ctx, name)
}
