package backends_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/rclone/rclone/fs/fserrors"
	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/backends/faulty"
)

func TestIsRetryable(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{fmt.Errorf("get x: %w", backends.ErrNotFound), false},
		{fmt.Errorf("put x: %w", context.Canceled), false},
		{context.DeadlineExceeded, false},
		{fserrors.NoRetryError(errors.New("bad request")), false},
		{fserrors.FatalError(errors.New("disk full")), false},
		{faulty.ErrInjected, true},
		{errors.New("connection reset"), true},
	}
	for _, c := range cases {
		if got := backends.IsRetryable(c.err); got != c.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestRetryPutRecoversFromTransientFailure(t *testing.T) {
	f := faulty.New(open(t, t.TempDir()))
	f.FailNth(faulty.Put, 1, nil)
	b := backends.Retry(f, 3)
	if err := b.Put(context.Background(), "a", []byte("a")); err != nil {
		t.Fatalf("put through retry: %v", err)
	}
	if got := f.Calls(faulty.Put); got != 2 {
		t.Errorf("put calls = %d, want 2", got)
	}
}

func TestRetryGivesUp(t *testing.T) {
	f := faulty.New(open(t, t.TempDir()))
	f.FailPrefix(faulty.Get, "packs/", nil)
	b := backends.Retry(f, 3)
	_, err := b.Get(context.Background(), "packs/x", 0, -1)
	if !errors.Is(err, faulty.ErrInjected) || f.Calls(faulty.Get) != 3 {
		t.Errorf("get: err %v after %d calls, want ErrInjected after 3", err, f.Calls(faulty.Get))
	}
}

func TestRetryStopsOnPermanentErrors(t *testing.T) {
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		want error
	}{
		{"not found", ctx, backends.ErrNotFound},
		{"cancelled", cancelled, context.Canceled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := faulty.New(open(t, t.TempDir()))
			_, err := backends.Retry(f, 5).Get(c.ctx, "missing", 0, -1)
			if !errors.Is(err, c.want) || f.Calls(faulty.Get) != 1 {
				t.Errorf("get: err %v after %d calls, want %v after 1", err, f.Calls(faulty.Get), c.want)
			}
		})
	}
}

func TestRetryListDoesNotRepeatObjects(t *testing.T) {
	f := faulty.New(open(t, t.TempDir()))
	ctx := context.Background()
	for _, n := range []string{"l/a", "l/b"} {
		if err := f.Put(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("caller failed")
	seen := 0
	err := backends.Retry(f, 3).List(ctx, "l/", func(backends.ObjectInfo) error {
		seen++
		return boom
	})
	if !errors.Is(err, boom) || seen != 1 || f.Calls(faulty.List) != 1 {
		t.Errorf("list: err %v, fn called %d times, List %d times; want %v, 1, 1", err, seen, f.Calls(faulty.List), boom)
	}
}

func TestRetryDeleteAfterLostReply(t *testing.T) {
	inner := open(t, t.TempDir())
	ctx := context.Background()
	if err := inner.Put(ctx, "d", []byte("d")); err != nil {
		t.Fatal(err)
	}
	// The first Delete deletes, then reports a failure, as when a reply is lost.
	b := backends.Retry(&lostReply{Backend: inner}, 3)
	if err := b.Delete(ctx, "d"); err != nil {
		t.Errorf("delete: %v", err)
	}
}

// lostReply deletes for real on the first Delete but returns an error.
type lostReply struct {
	backends.Backend
	done bool
}

func (l *lostReply) Delete(ctx context.Context, name string) error {
	err := l.Backend.Delete(ctx, name)
	if !l.done && err == nil {
		l.done = true
		return errors.New("connection reset")
	}
	return err
}

// Each retry is logged with its error as it happens, so that a command
// waiting on an unreachable store says why at once.
func TestRetryWarnsEachAttempt(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	defer slog.SetDefault(old)
	f := faulty.New(open(t, t.TempDir()))
	f.FailPrefix(faulty.Get, "config", errors.New("dial tcp 127.0.0.1:1: connection refused"))
	_, err := backends.Retry(f, 3).Get(context.Background(), "config", 0, -1)
	if err == nil {
		t.Fatal("get succeeded")
	}
	out := buf.String()
	if n := strings.Count(out, "retrying"); n != 2 {
		t.Fatalf("%d retry warnings, want 2:\n%s", n, out)
	}
	if !strings.Contains(out, "connection refused") || !strings.Contains(out, "attempt=2") {
		t.Fatalf("warning does not say the attempt and the error:\n%s", out)
	}
}
