package lock

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
