package backendtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
)

// testCancelledPut: a Put whose context is already cancelled fails with the
// context's error and leaves nothing visible.
func testCancelledPut(t *testing.T, b backends.Backend) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	name := root + "cancelled/x"
	err := b.Put(ctx, name, randomBytes(4, 1<<20))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("put with cancelled context: got %v, want context.Canceled", err)
	}
	_, err = b.Stat(context.Background(), name)
	wantNotFound(t, "stat after cancelled put", name, err)
	if got := listAll(t, b, root+"cancelled/"); len(got) != 0 {
		t.Errorf("list after cancelled put: %v", got)
	}
}

// testInterruptedPut cancels Puts while they run. Whenever the cancel
// lands, each object must be either absent or complete, and no temporary
// object may show in List.
func testInterruptedPut(t *testing.T, b backends.Backend) {
	data := randomBytes(5, 8<<20)
	// The delays only spread the cancels over the Put's phases; the checks
	// hold wherever the cancel lands.
	delays := []time.Duration{0, time.Millisecond, 4 * time.Millisecond, 16 * time.Millisecond}
	var names []string
	for i, delay := range delays {
		name := fmt.Sprintf("%sinterrupted/%d", root, i)
		names = append(names, name)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Put(ctx, name, data) }()
		time.Sleep(delay)
		cancel()
		err := <-done
		t.Cleanup(func() { _ = b.Delete(context.Background(), name) })
		checkAllOrNothing(t, b, name, data, err)
	}
	for name := range listAll(t, b, root+"interrupted/") {
		if !contains(names, name) {
			t.Errorf("list after interrupted puts shows %s", name)
		}
	}
}

// checkAllOrNothing checks that name holds data if putErr is nil, and that
// otherwise it holds data or nothing.
func checkAllOrNothing(t *testing.T, b backends.Backend, name string, data []byte, putErr error) {
	t.Helper()
	oi, err := b.Stat(context.Background(), name)
	switch {
	case errors.Is(err, backends.ErrNotFound) && putErr == nil:
		t.Errorf("put %s succeeded but the object is missing", name)
	case errors.Is(err, backends.ErrNotFound):
		return
	case err != nil:
		t.Errorf("stat %s: %v", name, err)
	case oi.Size != int64(len(data)):
		t.Errorf("interrupted put %s (err %v) left %d of %d bytes visible", name, putErr, oi.Size, len(data))
	default:
		equal(t, "interrupted put "+name, get(t, b, name, 0, -1), data)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// testLocation: Location names the backend and is never empty.
func testLocation(t *testing.T, b backends.Backend) {
	if loc := b.Location(); strings.TrimSpace(loc) == "" {
		t.Errorf("Location() is empty")
	}
}
