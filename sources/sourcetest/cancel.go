package sourcetest

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// cancelWithin is how soon a cancelled backup must return. It catches a
// source that ignores the cancellation and reads on to the end (minutes
// for bigSpec), not a speed: what shows that a source stops is the count
// of Writer calls after the cancellation. It was 5 s, which a MariaDB
// backup once missed at load 40 on the shared 2-core machine.
const cancelWithin = 60 * time.Second

// cancelAt is the Writer call or span at which a backup is cancelled
// midway: late enough that a row source is streaming, early enough that
// most of the object is still to come.
const cancelAt = bigItems / 10

// testCancel backs up with a context cancelled before the backup and with
// one cancelled midway, at the Writer's cancelAt-th call or span (or its
// first, for a source that makes fewer). Either must fail promptly, and
// the source must stop calling the Writer: fewer calls after the
// cancellation than a quarter of the object's items (what a few workers
// may have in hand), none after Backup returned.
func testCancel(t *testing.T, h Harness) {
	src, objs := setup(t, h, bigSpec())
	t.Run("before", func(t *testing.T) { cancelledBackup(t, src, objs[0], 0) })
	t.Run("during", func(t *testing.T) {
		if !cancelledBackup(t, src, objs[0], cancelAt) {
			t.Logf("the backup made fewer than %d Writer calls and spans; cancelling at the first", cancelAt)
			cancelledBackup(t, src, objs[0], 1)
		}
	})
}

// cancelledBackup backs up obj with a context cancelled at the at-th
// Writer call or span (0: before the backup) and checks that it fails
// promptly and stops. It returns false, checking nothing, when the backup
// ended before the at-th call.
func cancelledBackup(t *testing.T, src sources.Source, obj sources.Object, at int64) bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &watched{Writer: NewWriter(nil), cancel: cancel, cancelAt: at}
	if at == 0 {
		cancel()
		w.cancelled.Store(true)
	}
	start := time.Now()
	_, err := src.Backup(ctx, obj, sources.NoPrevious{}, w)
	took := time.Since(start)
	if !w.cancelled.Load() {
		return false
	}
	if took > cancelWithin {
		t.Errorf("cancelled backup took %v, want at most %v", took.Round(time.Millisecond), cancelWithin)
	}
	if err == nil {
		t.Fatal("cancelled backup returned no error: its version would be committed")
	}
	t.Logf("error: %v; %d calls after the cancellation", err, w.after.Load())
	w.checkStopped(t, bigItems/4)
	return true
}

// watched is a Writer that counts calls (and spans pulled) to tell
// whether a source goes on after a cancellation or after Backup returned.
// It hands the Writer a context without the cancellation, so that what
// stops is the source, not the Writer refusing work.
type watched struct {
	*Writer
	cancel    context.CancelFunc // called at the cancelAt-th call or span
	cancelAt  int64
	cancelled atomic.Bool
	active    atomic.Int64 // calls in progress
	calls     atomic.Int64 // calls and spans, in all
	after     atomic.Int64 // calls and spans after the cancellation
}

func (w *watched) enter(ctx context.Context) context.Context {
	w.active.Add(1)
	w.tick()
	return context.WithoutCancel(ctx)
}

// tick counts a call or span, cancelling at the cancelAt-th.
func (w *watched) tick() {
	n := w.calls.Add(1)
	if w.cancelled.Load() {
		w.after.Add(1)
	}
	if n == w.cancelAt {
		w.cancel()
		w.cancelled.Store(true)
	}
}

func (w *watched) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	defer w.active.Add(-1)
	return w.Writer.Add(w.enter(ctx), e, r)
}

func (w *watched) AddSpans(ctx context.Context, e sources.Entry, next func() (sources.Span, error)) error {
	defer w.active.Add(-1)
	ctx = w.enter(ctx)
	return w.Writer.AddSpans(ctx, e, func() (sources.Span, error) { w.tick(); return next() })
}

func (w *watched) Keep(ctx context.Context, e sources.Entry) error {
	defer w.active.Add(-1)
	return w.Writer.Keep(w.enter(ctx), e)
}

// checkStopped fails if a call is in progress after Backup returned, if
// one starts later, or if more than limit came after the cancellation.
func (w *watched) checkStopped(t *testing.T, limit int64) {
	t.Helper()
	if n := w.active.Load(); n != 0 {
		t.Errorf("Backup returned with %d Writer calls in progress", n)
	}
	calls := w.calls.Load()
	time.Sleep(200 * time.Millisecond)
	if n := w.calls.Load(); n != calls {
		t.Errorf("%d Writer calls after Backup returned", n-calls)
	}
	if n := w.after.Load(); n > limit {
		t.Errorf("%d Writer calls (Add, Keep, spans) after the cancellation, want fewer than %d: the source does not stop", n, limit)
	}
}
