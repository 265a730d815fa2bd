package lock

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
)

func testBackend(t *testing.T) backends.Backend {
	t.Helper()
	be, err := backends.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// An exclusive lock waits for a shared one, saying who it waits for, and
// gets the store once the shared one is released.
func TestExclusiveWaitsForShared(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	shared, err := Shared(ctx, be, "backup", func(Info) { t.Error("shared lock waited on an idle store") })
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan Info, 10)
	got := make(chan error, 1)
	go func() {
		l, err := Exclusive(ctx, be, "prune", func(li Info) { waited <- li })
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	li := <-waited
	if li.Op != "backup" || li.Exclusive || li.String() != "backup (pid "+strconv.Itoa(os.Getpid())+" on "+li.Host+")" {
		t.Fatalf("prune waits for %+v (%s), want the backup", li, li)
	}
	select {
	case err := <-got:
		t.Fatalf("exclusive lock taken while a shared one is held (%v)", err)
	default:
	}
	shared.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// Commit locks serialise one object and leave others alone.
func TestCommitPerObject(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	a, err := Commit(ctx, be, "c/d/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Commit(ctx, be, "c/d/b", nil)
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	got := make(chan error, 1)
	go func() {
		l, err := Commit(ctx, be, "c/d/a", nil)
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second commit lock on one object taken (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	a.Release()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// The lock of a dead process on this host does not block anyone.
func TestDeadProcessLockIgnored(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	host, _ := os.Hostname()
	data, _ := json.Marshal(Info{Exclusive: true, Op: "prune", Host: host, PID: cmd.Process.Pid, Time: time.Now().UTC()})
	if err := be.Put(ctx, "locks/dead", data); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	l, err := Shared(c, be, "backup", func(li Info) { t.Errorf("waits for the dead %s", li) })
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}

// putLock writes a lock object as a holder described by li would.
func putLock(t *testing.T, be backends.Backend, name string, li Info) {
	t.Helper()
	data, _ := json.Marshal(li)
	if err := be.Put(context.Background(), name, data); err != nil {
		t.Fatal(err)
	}
}

// Stale locks are those of dead processes on this host and those of any
// host not refreshed for lockStale; a fresh lock of another host is live
// whatever its pid (that pid means nothing here), and an object that is no
// lock is left alone.
func TestFindAndRemoveStale(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	host, _ := os.Hostname()
	now := time.Now().UTC()
	dead := deadPID(t)
	locks := []struct {
		name  string
		info  Info
		stale bool
	}{
		{"locks/a-dead-here", Info{Op: "backup", Host: host, PID: dead, Time: now}, true},
		{"locks/b-old-elsewhere", Info{Op: "prune", Exclusive: true, Host: "other-host", PID: 1, Time: now.Add(-lockStale - time.Minute)}, true},
		{"locks/c-fresh-elsewhere", Info{Op: "backup", Host: "other-host", PID: dead, Time: now}, false},
		{"locks/d-live-here", Info{Op: "backup", Host: host, PID: os.Getpid(), Time: now}, false},
	}
	var want []string
	for _, l := range locks {
		putLock(t, be, l.name, l.info)
		if l.stale {
			want = append(want, l.name)
		}
	}
	if err := be.Put(ctx, "locks/e-not-a-lock", []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	stale, err := FindStale(ctx, be)
	if err != nil {
		t.Fatal(err)
	}
	if got := staleNames(stale); !slices.Equal(got, want) {
		t.Fatalf("FindStale = %q, want %q", got, want)
	}
	removed, err := RemoveStale(ctx, be, stale)
	if err != nil {
		t.Fatal(err)
	}
	if got := staleNames(removed); !slices.Equal(got, want) {
		t.Fatalf("RemoveStale removed %q, want %q", got, want)
	}
	left := map[string]bool{}
	if err := be.List(ctx, "locks/", func(oi backends.ObjectInfo) error { left[oi.Name] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, l := range locks {
		if left[l.name] == l.stale {
			t.Errorf("%s (stale %v): still there = %v", l.name, l.stale, left[l.name])
		}
	}
	if !left["locks/e-not-a-lock"] {
		t.Error("an object that is no lock was removed")
	}
}

// A lock refreshed between FindStale and RemoveStale (a slow holder on
// another host that is alive after all) is kept.
func TestRemoveStaleKeepsRefreshed(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	old := Info{Op: "backup", Host: "other-host", PID: 7, Time: time.Now().UTC().Add(-lockStale - time.Minute)}
	putLock(t, be, "locks/slow", old)
	stale, err := FindStale(ctx, be)
	if err != nil || len(stale) != 1 {
		t.Fatalf("FindStale = %v (%v), want the old lock", stale, err)
	}
	refreshed := old
	refreshed.Time = time.Now().UTC()
	putLock(t, be, "locks/slow", refreshed)
	removed, err := RemoveStale(ctx, be, stale)
	if err != nil || len(removed) != 0 {
		t.Fatalf("RemoveStale removed %v (%v), want nothing", removed, err)
	}
	if _, err := be.Stat(ctx, "locks/slow"); err != nil {
		t.Fatalf("the refreshed lock is gone: %v", err)
	}
}

// A backup taking the shared lock removes the lock a killed backup left.
func TestSharedRemovesStale(t *testing.T) {
	ctx := context.Background()
	be := testBackend(t)
	host, _ := os.Hostname()
	putLock(t, be, "locks/killed", Info{Op: "backup", Host: host, PID: deadPID(t), Time: time.Now().UTC()})
	l, err := Shared(ctx, be, "backup", func(li Info) { t.Errorf("waits for %s", li) })
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, err := be.Stat(ctx, "locks/killed"); !errors.Is(err, backends.ErrNotFound) {
		t.Fatalf("the killed backup's lock is still there after the next backup took its lock (%v)", err)
	}
}

func staleNames(s []Stale) []string {
	var out []string
	for _, l := range s {
		out = append(out, l.Name)
	}
	return out
}
