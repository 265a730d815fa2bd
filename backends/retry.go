package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/rclone/rclone/fs/fserrors"
)

// IsRetryable reports whether an operation that failed with err may succeed
// if tried again. It is the one place that decides: a missing object, a
// cancelled or expired context and errors rclone marks as permanent or
// fatal are not retried; anything else (network, server and injected
// errors) is.
func IsRetryable(err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrNotFound),
		errors.Is(err, context.Canceled),
		errors.Is(err, context.DeadlineExceeded),
		fserrors.IsNoRetryError(err),
		fserrors.IsFatalError(err):
		return false
	}
	return true
}

// retryBackoff is the pause before the second attempt; it doubles for each
// further attempt up to retryMaxBackoff.
var (
	retryBackoff    = 100 * time.Millisecond
	retryMaxBackoff = 5 * time.Second
)

// retrying is the Backend returned by Retry.
type retrying struct {
	Backend
	attempts int
}

// Retry wraps b so that each operation is tried up to attempts times while
// IsRetryable says so, pausing with exponential backoff in between. rclone
// already retries single HTTP requests; this covers whole operations, such
// as a Put whose move into place failed. A Get is retried only until it
// returns a reader, and a List only until it has passed an object to fn,
// so callers never see data twice.
func Retry(b Backend, attempts int) Backend {
	return &retrying{Backend: b, attempts: max(attempts, 1)}
}

// do runs op until it succeeds, fails permanently, or runs out of attempts.
func (r *retrying) do(ctx context.Context, op func() error) error {
	wait := retryBackoff
	var err error
	for i := 0; i < r.attempts; i++ {
		if i > 0 {
			// Said at once, not only when the attempts run out: below
			// this, rclone and the S3 SDK retry each request too, and an
			// unreachable store would otherwise keep a command silent
			// for a minute or more.
			slog.Warn("store operation failed; retrying", "attempt", i+1, "of", r.attempts, "in", wait, "err", err)
			if serr := sleep(ctx, wait); serr != nil {
				return fmt.Errorf("%w (retry stopped: %w)", err, serr)
			}
			wait = min(2*wait, retryMaxBackoff)
		}
		if err = op(); !IsRetryable(err) {
			return err
		}
	}
	return fmt.Errorf("after %d attempts: %w", r.attempts, err)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r *retrying) Put(ctx context.Context, name string, data []byte) error {
	return r.do(ctx, func() error { return r.Backend.Put(ctx, name, data) })
}

func (r *retrying) Get(ctx context.Context, name string, off, length int64) (rc io.ReadCloser, err error) {
	err = r.do(ctx, func() error {
		rc, err = r.Backend.Get(ctx, name, off, length)
		return err
	})
	return rc, err
}

func (r *retrying) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	delivered := false
	var final error // an error after fn has seen objects: not retried
	err := r.do(ctx, func() error {
		err := r.Backend.List(ctx, prefix, func(oi ObjectInfo) error {
			delivered = true
			return fn(oi)
		})
		if err != nil && delivered {
			final = err
			return nil
		}
		return err
	})
	if final != nil {
		return final
	}
	return err
}

func (r *retrying) Stat(ctx context.Context, name string) (oi ObjectInfo, err error) {
	err = r.do(ctx, func() error {
		oi, err = r.Backend.Stat(ctx, name)
		return err
	})
	return oi, err
}

// Delete retries like the others, but a not-found after a failed attempt
// means an earlier attempt did delete the object, so it reports success.
func (r *retrying) Delete(ctx context.Context, name string) error {
	tried := false
	return r.do(ctx, func() error {
		err := r.Backend.Delete(ctx, name)
		if tried && errors.Is(err, ErrNotFound) {
			return nil
		}
		tried = true
		return err
	})
}

// PutDeferred retries the wrapped backend's PutDeferred, or Put where it
// has none.
func (r *retrying) PutDeferred(ctx context.Context, name string, data []byte) error {
	if dp, ok := r.Backend.(DeferredPutter); ok {
		return r.do(ctx, func() error { return dp.PutDeferred(ctx, name, data) })
	}
	return r.Put(ctx, name, data)
}

// Sync syncs the wrapped backend, if it defers anything.
func (r *retrying) Sync(ctx context.Context) error {
	if dp, ok := r.Backend.(DeferredPutter); ok {
		return r.do(ctx, func() error { return dp.Sync(ctx) })
	}
	return nil
}
