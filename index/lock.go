package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/stratabackup/strata/backends"
	mrand "math/rand/v2"
	"slices"
)

// Locks live on the backend as locks/<id>. A backup holds a shared lock for
// its whole run; prune takes an exclusive one and proceeds only when no
// other live lock exists, so prune never deletes a pack that a running
// backup has deduplicated against or just written. A lock is live while it
// is refreshed (every lockRefresh); a lock of a dead process on this host,
// or one not refreshed for lockStale, is ignored (a kill -9 must not block
// the store forever).
const (
	lockRefresh = time.Minute
	lockStale   = 5 * time.Minute
)

type lockInfo struct {
	Exclusive bool      `json:"exclusive"`
	Op        string    `json:"op"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
}

type heldLock struct {
	be   backends.Backend
	name string
	stop chan struct{}
	done chan struct{}
}

func (l lockInfo) live(now time.Time) bool {
	if now.Sub(l.Time) > lockStale {
		return false
	}
	if h, _ := os.Hostname(); h == l.Host {
		if processGone(l.PID) {
			return false
		}
	}
	return true
}

func writeLock(ctx context.Context, be backends.Backend, name string, info lockInfo) error {
	info.Time = time.Now().UTC()
	data, _ := json.Marshal(info)
	return be.Put(ctx, name, data)
}

// acquireLock writes a lock and keeps it fresh until release.
func acquireLock(ctx context.Context, be backends.Backend, op string, exclusive bool) (*heldLock, error) {
	host, _ := os.Hostname()
	info := lockInfo{Exclusive: exclusive, Op: op, Host: host, PID: os.Getpid()}
	l := &heldLock{be: be, name: "locks/" + randomID(), stop: make(chan struct{}), done: make(chan struct{})}
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

func (l *heldLock) release() {
	close(l.stop)
	<-l.done
	_ = l.be.Delete(context.Background(), l.name)
}

// otherLocks lists live locks other than own.
func otherLocks(ctx context.Context, be backends.Backend, own string) ([]lockInfo, error) {
	var out []lockInfo
	now := time.Now()
	err := be.List(ctx, "locks/", func(oi backends.ObjectInfo) error {
		if oi.Name == own {
			return nil
		}
		data, err := getRange(ctx, be, oi.Name, 0, -1)
		if errors.Is(err, backends.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		var li lockInfo
		if json.Unmarshal(data, &li) == nil && li.live(now) {
			out = append(out, li)
		}
		return nil
	})
	return out, err
}

// sharedLock is taken by backups: it waits while a prune holds the store.
func sharedLock(ctx context.Context, be backends.Backend, op string, wait func(lockInfo)) (*heldLock, error) {
	l, err := acquireLock(ctx, be, op, false)
	if err != nil {
		return nil, err
	}
	for {
		others, err := otherLocks(ctx, be, l.name)
		if err != nil {
			l.release()
			return nil, err
		}
		var excl *lockInfo
		for i := range others {
			if others[i].Exclusive {
				excl = &others[i]
			}
		}
		if excl == nil {
			return l, nil
		}
		wait(*excl)
		if err := pause(ctx, time.Second); err != nil {
			l.release()
			return nil, err
		}
	}
}

// exclusiveLock is taken by prune: it waits (politely removing its own lock
// while waiting, so backups are never blocked by a waiting prune) until no
// other live lock exists.
func exclusiveLock(ctx context.Context, be backends.Backend, op string, wait func(lockInfo)) (*heldLock, error) {
	return lockWhenAlone(ctx, be, op, true, func(lockInfo) bool { return true },
		func(int) time.Duration { return time.Second }, func(_ int, li lockInfo) { wait(li) })
}

// lockWhenAlone writes a lock, lists the others, and keeps it if none of
// them conflicts; otherwise it removes its own, tells wait, pauses and
// tries again. Removing its own lock while waiting keeps a waiter from
// blocking anyone, and two that see each other both back off.
func lockWhenAlone(ctx context.Context, be backends.Backend, op string, exclusive bool, conflicts func(lockInfo) bool,
	delay func(attempt int) time.Duration, wait func(attempt int, other lockInfo)) (*heldLock, error) {
	for attempt := 0; ; attempt++ {
		l, err := acquireLock(ctx, be, op, exclusive)
		if err != nil {
			return nil, err
		}
		others, err := otherLocks(ctx, be, l.name)
		if err != nil {
			l.release()
			return nil, err
		}
		i := slices.IndexFunc(others, conflicts)
		if i < 0 {
			return l, nil
		}
		l.release()
		wait(attempt, others[i])
		if err := pause(ctx, delay(attempt)); err != nil {
			return nil, err
		}
	}
}

// processGone reports a process that no longer exists on this host.
func processGone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// commitLock serialises the naming and writing of one object's manifests
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
func commitLock(ctx context.Context, be backends.Backend, object string, wait func(lockInfo)) (*heldLock, error) {
	op := "commit " + object
	l, err := lockWhenAlone(ctx, be, op, false, func(o lockInfo) bool { return o.Op == op },
		func(attempt int) time.Duration {
			return time.Duration(10+mrand.IntN(40*min(attempt+1, 10))) * time.Millisecond
		},
		func(attempt int, other lockInfo) {
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
