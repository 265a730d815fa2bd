package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
)

func TestParseWhen(t *testing.T) {
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-24T10:00:00Z", day.Add(10 * time.Hour), true},
		{"2026-11-24T11:00:00+01:00", day.Add(10 * time.Hour), true},
		{"2026-11-24", day.Add(24*time.Hour - time.Nanosecond), true},
		{"1795514400", time.Unix(1795514400, 0), true},
		{"0", time.Unix(0, 0), true},
		{"", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"2026-11-24T10:00", time.Time{}, false},
		{"12345678901234567890", time.Time{}, false},
		{"latest", time.Time{}, false},
	}
	for _, c := range cases {
		got, ok := parseWhen(c.in)
		if ok != c.ok || (ok && !got.Equal(c.want)) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestResolve(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 1, 1, h, 0, 0, 0, time.UTC) }
	vs := []index.Version{{Time: at(1)}, {Time: at(3)}, {Time: at(5)}}
	cases := []struct {
		h    int
		want int // index into vs, -1 for none
	}{{0, -1}, {1, 0}, {2, 0}, {3, 1}, {4, 1}, {5, 2}, {9, 2}}
	for _, c := range cases {
		v, ok := resolve(vs, at(c.h))
		if (c.want < 0) == ok || (ok && !v.Time.Equal(vs[c.want].Time)) {
			t.Errorf("resolve at %d:00 = %v, %v; want index %d", c.h, v.Time, ok, c.want)
		}
	}
}

func TestDeletedList(t *testing.T) {
	got := string(deletedList([]string{"a", "b/c d", "x\ny/z"}))
	if want := "a\nb/c d\nx%0Ay/z\n"; got != want {
		t.Errorf("deletedList = %q, want %q", got, want)
	}
	if deletedList(nil) == nil {
		t.Error("empty list is nil; a diff root would not be told apart")
	}
}

func TestToErrno(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{fmt.Errorf("version x: %w", index.ErrNotFound), syscall.ENOENT},
		{fmt.Errorf("read: %w", context.Canceled), syscall.EINTR},
		{context.DeadlineExceeded, syscall.EINTR},
		{errors.New("pack damaged"), syscall.EIO},
	}
	for _, c := range cases {
		if got := toErrno(log, "op", c.err); got != c.want {
			t.Errorf("toErrno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
