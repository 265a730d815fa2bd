package cassandra

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"
)

// scanner reads token ranges of one table, each from one replica, with a
// bounded number of requests per node; a page that fails on one replica
// is asked of the next, from the same paging state.
type scanner struct {
	s        *gocql.Session
	t        *table
	cql      string
	cl       gocql.Consistency
	pageSize int
	slots    *nodeSlots
	health   *health
	onRange  func() // called as each range is read

	mu     sync.Mutex
	served map[int]string // range index -> replica(s) that served it
}

// page is one page of a range's rows.
type page struct {
	rows []rowVal
}

// nodeSlots bounds the requests in flight per node.
type nodeSlots struct {
	mu    sync.Mutex
	per   int
	slots map[string]chan struct{}
}

func newNodeSlots(per int) *nodeSlots {
	return &nodeSlots{per: per, slots: map[string]chan struct{}{}}
}

func (n *nodeSlots) get(addr string) chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch := n.slots[addr]
	if ch == nil {
		ch = make(chan struct{}, n.per)
		n.slots[addr] = ch
	}
	return ch
}

func (n *nodeSlots) acquire(ctx context.Context, addr string) error {
	select {
	case n.get(addr) <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (n *nodeSlots) release(addr string) { <-n.get(addr) }

// health records the nodes that failed requests during a backup and the
// ranges that moved to another replica.
type health struct {
	mu     sync.Mutex
	failed map[string]string // node -> last error
	moved  []string
}

func newHealth() *health { return &health{failed: map[string]string{}} }

func (h *health) fail(addr string, r tokenRange, next string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed[addr] = err.Error()
	h.moved = append(h.moved, fmt.Sprintf("%s %s->%s", r, addr, next))
}

func (h *health) isFailed(addr string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.failed[addr]
	return ok
}

// readRange sends the range's pages to out, in order; it closes nothing.
// Each page is read from the first replica that answers, starting with
// the one that served the previous page.
func (sc *scanner) readRange(ctx context.Context, idx int, r tokenRange, out chan<- page) error {
	var state []byte
	rep := sc.firstReplica(r)
	for {
		rows, next, used, err := sc.readPage(ctx, r, rep, state)
		if err != nil {
			return err
		}
		rep = used
		sc.record(idx, r.Replicas[used])
		select {
		case out <- page{rows: rows}:
		case <-ctx.Done():
			return ctx.Err()
		}
		if len(next) == 0 {
			if sc.onRange != nil {
				sc.onRange()
			}
			return nil
		}
		state = next
	}
}

// firstReplica is the replica a range is first asked of: the first that
// has not failed in this backup.
func (sc *scanner) firstReplica(r tokenRange) int {
	for i, a := range r.Replicas {
		if !sc.health.isFailed(a) {
			return i
		}
	}
	return 0
}

// record notes which replica served a range ("a->b" when it moved
// midway).
func (sc *scanner) record(idx int, addr string) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.served == nil {
		sc.served = map[int]string{}
	}
	old := sc.served[idx]
	switch {
	case old == "":
		sc.served[idx] = addr
	case !strings.HasSuffix(old, addr):
		sc.served[idx] = old + "->" + addr
	}
}

// attempts is how many times each replica of a range is tried for a page
// before the backup fails.
const attempts = 3

// readPage reads one page, trying the range's replicas in turn from
// rep, a few rounds with a pause between them.
func (sc *scanner) readPage(ctx context.Context, r tokenRange, rep int, state []byte) ([]rowVal, []byte, int, error) {
	var errs []string
	n := len(r.Replicas)
	for try := 0; try < attempts*n; try++ {
		i := (rep + try) % n
		addr := r.Replicas[i]
		rows, next, err := sc.fetch(ctx, r, addr, state)
		if err == nil {
			return rows, next, i, nil
		}
		if ctx.Err() != nil {
			return nil, nil, 0, ctx.Err()
		}
		if !isUnavailable(err) {
			return nil, nil, 0, fmt.Errorf("read %s tokens %s from %s: %w", sc.t.qname(), r, addr, err)
		}
		sc.health.fail(addr, r, r.Replicas[(i+1)%n], err)
		errs = append(errs, addr+": "+err.Error())
		if (try+1)%n == 0 {
			if err := sleep(ctx, time.Duration(try+1)*500*time.Millisecond); err != nil {
				return nil, nil, 0, err
			}
		}
	}
	return nil, nil, 0, fmt.Errorf("read %s tokens %s: no replica answered (%s): %s",
		sc.t.qname(), r, strings.Join(r.Replicas, ", "), strings.Join(errs, "; "))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch reads one page of a range from one node.
func (sc *scanner) fetch(ctx context.Context, r tokenRange, addr string, state []byte) ([]rowVal, []byte, error) {
	if err := sc.slots.acquire(ctx, addr); err != nil {
		return nil, nil, err
	}
	defer sc.slots.release(addr)
	q := sc.s.Query(sc.cql, r.Start, r.End).WithContext(onHost(ctx, addr)).Consistency(sc.cl).
		PageSize(sc.pageSize).PageState(state).Prefetch(0).Idempotent(true).
		RetryPolicy(&gocql.SimpleRetryPolicy{NumRetries: 0})
	iter := q.Iter()
	read := time.Now().Unix()
	d := newScanDest(sc.t)
	n := iter.NumRows()
	rows := make([]rowVal, 0, n)
	for i := 0; i < n && iter.Scan(d.dest...); i++ {
		rows = append(rows, d.row(read))
	}
	next := iter.PageState()
	if err := iter.Close(); err != nil {
		return nil, nil, err
	}
	if len(rows) != n {
		return nil, nil, fmt.Errorf("page of %d rows ended after %d", n, len(rows))
	}
	return rows, next, nil
}
