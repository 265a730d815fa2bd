package fs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"syscall"
	"testing"

	"github.com/stratabackup/strata/index"
)

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
