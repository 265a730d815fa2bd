package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// Locks live on the backend as locks/<id>. A backup holds a shared lock for
// its whole run; prune takes an exclusive one and proceeds only when no
// other live lock exists, so prune never deletes a pack that a running
// backup has deduplicated against or just written. A lock is live while it
// is refreshed (every lockRefresh); a lock of a dead process on this host,
// or one not refreshed for lockStale, is ignored (a kill -9 must not block
// the store forever) and deleted by the next backup (Shared) or prune
// (FindStale, RemoveStale), so it does not stay in the store forever.
const (
	lockRefresh = time.Minute
	lockStale   = 5 * time.Minute
)

// Info is a lock object's content: what holds the lock, where, and when
// it was last refreshed.
type Info struct {
	Exclusive bool      `json:"exclusive"`
	Op        string    `json:"op"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
}

// Held is a lock this process wrote and keeps fresh until Release.
type Held struct {
	be   backends.Backend
	name string
	stop chan struct{}
	done chan struct{}
}

// String says who holds the lock, for a display of what a caller waits
// for: "prune (pid 42 on host)".
func (l Info) String() string { return fmt.Sprintf("%s (pid %d on %s)", l.Op, l.PID, l.Host) }

func (l Info) live(now time.Time) bool {
	if now.Sub(l.Time) > lockStale {
		return false
	}
	if h, _ := os.Hostname(); h == l.Host {
		if ProcessGone(l.PID) {
			return false
		}
	}
	return true
}

// same reports whether two reads of a lock object found the same content
// (a refresh changes its time).
func (l Info) same(o Info) bool {
	return l.Exclusive == o.Exclusive && l.Op == o.Op && l.Host == o.Host && l.PID == o.PID && l.Time.Equal(o.Time)
}

func writeLock(ctx context.Context, be backends.Backend, name string, info Info) error {
	info.Time = time.Now().UTC()
	data, _ := json.Marshal(info)
	return be.Put(ctx, name, data)
}

// acquireLock writes a lock and keeps it fresh until Release.
func acquireLock(ctx context.Context, be backends.Backend, op string, exclusive bool) (*Held, error) {
	host, _ := os.Hostname()
	info := Info{Exclusive: exclusive, Op: op, Host: host, PID: os.Getpid()}
	l := &Held{be: be, name: "locks/" + format.RandomID(), stop: make(chan struct{}), done: make(chan struct{})}
	if err := writeLock(ctx, be, l.name, info); err != nil {
		return nil, fmt.Errorf("write lock %s: %w", l.name, err)
	}
	go func() {
		defer close(l.done)
		t := time.NewTicker(lockRefresh)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
				_ = writeLock(context.Background(), be, l.name, info)
			}
		}
	}()
	return l, nil
}

// Release stops refreshing the lock and deletes it from the backend.
func (l *Held) Release() {
	close(l.stop)
	<-l.done
	_ = l.be.Delete(context.Background(), l.name)
}

// Stale is the lock object of a holder that is gone: a process on this
// host that no longer exists, or any holder (of any host) that has not
// refreshed it for lockStale. Nobody waits for it; RemoveStale deletes it.
type Stale struct {
	Name string `json:"name"`
	Info
}

// otherLocks lists live locks other than own, and the stale ones.
func otherLocks(ctx context.Context, be backends.Backend, own string) (live []Info, stale []Stale, err error) {
	now := time.Now()
	err = be.List(ctx, "locks/", func(oi backends.ObjectInfo) error {
		if oi.Name == own {
			return nil
		}
		li, ok, err := readLock(ctx, be, oi.Name)
		switch {
		case err != nil:
			return err
		case !ok:
		case li.live(now):
			live = append(live, li)
		default:
			stale = append(stale, Stale{Name: oi.Name, Info: li})
		}
		return nil
	})
	return live, stale, err
}

// readLock reads and parses one lock object; ok is false when it is gone
// or is not a lock (a foreign object, never deleted).
func readLock(ctx context.Context, be backends.Backend, name string) (li Info, ok bool, err error) {
	data, err := format.ReadRange(ctx, be, name, 0, -1)
	if errors.Is(err, backends.ErrNotFound) {
		return li, false, nil
	}
	if err != nil {
		return li, false, fmt.Errorf("read lock %s: %w", name, err)
	}
	if json.Unmarshal(data, &li) != nil || li.Op == "" || li.Time.IsZero() {
		return li, false, nil
	}
	return li, true, nil
}

// FindStale lists the stale locks of the store, sorted by name.
func FindStale(ctx context.Context, be backends.Backend) ([]Stale, error) {
	_, stale, err := otherLocks(ctx, be, "")
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	slices.SortFunc(stale, func(a, b Stale) int { return strings.Compare(a.Name, b.Name) })
	return stale, nil
}

// RemoveStale deletes the given stale locks and returns those it deleted.
// Each is read again first and deleted only if it is unchanged: a holder
// that was merely slow (another host, paused) and has refreshed its lock
// since is live again and keeps it. One already gone (another process
// removed it) is skipped.
func RemoveStale(ctx context.Context, be backends.Backend, stale []Stale) ([]Stale, error) {
	var removed []Stale
	for _, s := range stale {
		li, ok, err := readLock(ctx, be, s.Name)
		if err != nil {
			return removed, err
		}
		if !ok || !li.same(s.Info) || li.live(time.Now()) {
			continue
		}
		err = be.Delete(ctx, s.Name)
		if errors.Is(err, backends.ErrNotFound) {
			continue
		}
		if err != nil {
			return removed, fmt.Errorf("remove stale lock %s of %s: %w", s.Name, s.Info, err)
		}
		removed = append(removed, s)
	}
	return removed, nil
}

// Shared is taken by backups under the name op: it waits while a prune
// holds the store, telling wait (every second) who holds it. Once it has
// the store it deletes the stale locks it saw (best effort: prune deletes
// what is left).
func Shared(ctx context.Context, be backends.Backend, op string, wait func(Info)) (*Held, error) {
	l, err := acquireLock(ctx, be, op, false)
	if err != nil {
		return nil, err
	}
	for {
		others, stale, err := otherLocks(ctx, be, l.name)
		if err != nil {
			l.Release()
			return nil, err
		}
		var excl *Info
		for i := range others {
			if others[i].Exclusive {
				excl = &others[i]
			}
		}
		if excl == nil {
			// Best effort: a lock left by a killed backup or prune goes
			// with the next backup; what is left, prune removes.
			_, _ = RemoveStale(ctx, be, stale)
			return l, nil
		}
		wait(*excl)
		if err := pause(ctx, time.Second); err != nil {
			l.Release()
			return nil, err
		}
	}
}

// Exclusive is taken by prune: it waits (politely removing its own lock
// while waiting, so backups are never blocked by a waiting prune) until no
// other live lock exists.
func Exclusive(ctx context.Context, be backends.Backend, op string, wait func(Info)) (*Held, error) {
	return lockWhenAlone(ctx, be, op, true, func(Info) bool { return true },
		func(int) time.Duration { return time.Second }, func(_ int, li Info) { wait(li) })
}

// lockWhenAlone writes a lock, lists the others, and keeps it if none of
// them conflicts; otherwise it removes its own, tells wait, pauses and
// tries again. Removing its own lock while waiting keeps a waiter from
// blocking anyone, and two that see each other both back off.
func lockWhenAlone(ctx context.Context, be backends.Backend, op string, exclusive bool, conflicts func(Info) bool,
	delay func(attempt int) time.Duration, wait func(attempt int, other Info)) (*Held, error) {
	for attempt := 0; ; attempt++ {
		l, err := acquireLock(ctx, be, op, exclusive)
		if err != nil {
			return nil, err
		}
		others, _, err := otherLocks(ctx, be, l.name)
		if err != nil {
			l.Release()
			return nil, err
		}
		i := slices.IndexFunc(others, conflicts)
		if i < 0 {
			return l, nil
		}
		l.Release()
		wait(attempt, others[i])
		if err := pause(ctx, delay(attempt)); err != nil {
			return nil, err
		}
	}
}

// ProcessGone reports a process that no longer exists on this host.
func ProcessGone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// Commit serialises the naming and writing of one object's manifests
// across processes and hosts (a remote store shared by several machines):
// without it two backups of one table in the same second could both find
// the name free and the second Put would overwrite the first version. A
// commit writes its lock ("commit <object>", shared as far as prune is
// concerned), then lists the locks: it goes ahead only if no other live
// commit lock for the object exists, else it removes its own and retries
// after a random pause. Of two that see each other both back off; one
// that listed before the other wrote goes first and the other sees it.
//
// wait is told of the other commit after a few rounds, so a display can
// say what the backup waits for (a crashed host's lock lasts until stale).
func Commit(ctx context.Context, be backends.Backend, object string, wait func(Info)) (*Held, error) {
	op := "commit " + object
	l, err := lockWhenAlone(ctx, be, op, false, func(o Info) bool { return o.Op == op },
		func(attempt int) time.Duration {
			return time.Duration(10+mrand.IntN(40*min(attempt+1, 10))) * time.Millisecond
		},
		func(attempt int, other Info) {
			if attempt >= 3 && wait != nil {
				wait(other)
			}
		})
	if err != nil {
		return nil, fmt.Errorf("commit lock for %s: %w", object, err)
	}
	return l, nil
}

// pause waits d, or until ctx ends (returning its error).
func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
