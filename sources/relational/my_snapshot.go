package relational

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// myNoLockWarning is recorded when FLUSH TABLES WITH READ LOCK is refused.
const myNoLockWarning = "FLUSH TABLES WITH READ LOCK refused (grant RELOAD to make parallel reads consistent): " +
	"one connection reads every table at one consistent snapshot, without parallel ranges"

// mySnap is a set of connections in consistent-snapshot transactions
// started while one of them held the global read lock, so that all see
// the same point (as mydumper does).
type mySnap struct {
	srv   *myServer
	conns []*sql.Conn
	pool  chan *sql.Conn
	alive atomic.Int32
	t     time.Time
	warn  string
}

func (s *myServer) snapshot(ctx context.Context, _ string, workers int) (snapshot, error) {
	sn := &mySnap{srv: s}
	first, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.redacted(), err)
	}
	sn.conns = append(sn.conns, first)
	if _, err := first.ExecContext(ctx, "FLUSH TABLES WITH READ LOCK"); err != nil {
		sn.warn, workers = myNoLockWarning, 1
		s.log.Warn("no global read lock; reading on one connection", "err", err)
	}
	for i := 1; i < workers; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			sn.close()
			return nil, fmt.Errorf("connect to %s: %w", s.redacted(), err)
		}
		sn.conns = append(sn.conns, c)
	}
	for _, c := range sn.conns {
		if err := myBegin(ctx, c); err != nil {
			sn.close()
			return nil, err
		}
	}
	var now string
	if err := first.QueryRowContext(ctx, "SELECT UTC_TIMESTAMP(6)").Scan(&now); err != nil {
		sn.close()
		return nil, err
	}
	if sn.t, err = time.Parse("2006-01-02 15:04:05.999999", now); err != nil {
		sn.close()
		return nil, fmt.Errorf("the server's time %q: %w", now, err)
	}
	if sn.warn == "" {
		if _, err := first.ExecContext(ctx, "UNLOCK TABLES"); err != nil {
			sn.close()
			return nil, err
		}
	}
	sn.alive.Store(int32(len(sn.conns)))
	sn.pool = make(chan *sql.Conn, len(sn.conns))
	for _, c := range sn.conns {
		sn.pool <- c
	}
	return sn, nil
}

func myBegin(ctx context.Context, c *sql.Conn) error {
	for _, q := range []string{"SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
		// A block checksum concatenates its rows (my_blocks.go); one cut
		// short at 64 MiB (rows of large values) never matches: the block
		// is read, and the server never holds more for it.
		"SET SESSION group_concat_max_len = 67108864"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func (sn *mySnap) at() time.Time { return sn.t }
func (sn *mySnap) workers() int  { return len(sn.conns) }

func (sn *mySnap) consistency() (string, string) {
	if sn.warn != "" {
		return "one consistent-snapshot transaction (no global read lock)", sn.warn
	}
	return fmt.Sprintf("%d consistent-snapshot transactions started under one global read lock", len(sn.conns)), ""
}

func (sn *mySnap) acquire(ctx context.Context) (*sql.Conn, error) {
	if sn.alive.Load() <= 0 {
		return nil, errors.New("every connection of the snapshot failed earlier in this run")
	}
	select {
	case c := <-sn.pool:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release returns c to the set, or drops it after a failure (its
// transaction may be gone).
func (sn *mySnap) release(c *sql.Conn, failed bool) {
	if failed {
		c.Raw(func(any) error { return sql.ErrConnDone })
		c.Close()
		sn.alive.Add(-1)
		return
	}
	sn.pool <- c
}

func (sn *mySnap) close() error {
	var errs []error
	for _, c := range sn.conns {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = c.ExecContext(ctx, "ROLLBACK")
		cancel()
		if err := c.Close(); err != nil && !errors.Is(err, sql.ErrConnDone) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
