package relational

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// noExportWarning is recorded when the server cannot export a snapshot.
const noExportWarning = "the server cannot export a snapshot (pg_export_snapshot failed: a standby, or a pooler without session state): " +
	"one connection reads every table of the database at one REPEATABLE READ point, without parallel ranges"

// pgSnap is a set of connections to one database, all in REPEATABLE READ
// READ ONLY transactions at one snapshot: the first exports it, the
// others import it with SET TRANSACTION SNAPSHOT.
type pgSnap struct {
	srv   *pgServer
	db    string
	conns []*pgx.Conn
	pool  chan *pgx.Conn
	id    string // exported snapshot, "" when export failed
	t     time.Time
	warn  string
	alive atomic.Int32 // connections still usable
	// mark is the snapshot's point for later change reads, nil when it
	// cannot be one (pg_changes.go).
	mark *pgMark
	// pairMu makes taking two connections at once (a change scan) one
	// step, so that two tables cannot each hold one and wait for the
	// other's.
	pairMu sync.Mutex
}

func (s *pgServer) snapshot(ctx context.Context, db string, workers int) (snapshot, error) {
	sn := &pgSnap{srv: s, db: db}
	first, err := sn.begin(ctx)
	if err != nil {
		return nil, err
	}
	err = first.QueryRow(ctx, `SELECT pg_export_snapshot(), now()`).Scan(&sn.id, &sn.t)
	if err != nil {
		// A failed statement aborts the transaction: start again without
		// an export, on one connection.
		first.Close(context.WithoutCancel(ctx))
		sn.conns, sn.warn, sn.id = nil, noExportWarning, ""
		if first, err = sn.begin(ctx); err != nil {
			return nil, err
		}
		if err := first.QueryRow(ctx, `SELECT now()`).Scan(&sn.t); err != nil {
			sn.close()
			return nil, err
		}
		workers = 1
	} else {
		sn.readMark(ctx)
	}
	for i := 1; i < workers; i++ {
		c, err := sn.begin(ctx)
		if err == nil {
			_, err = c.Exec(ctx, "SET TRANSACTION SNAPSHOT '"+sn.id+"'")
		}
		if err != nil {
			sn.close()
			return nil, fmt.Errorf("import snapshot %s: %w", sn.id, err)
		}
	}
	sn.alive.Store(int32(len(sn.conns)))
	sn.pool = make(chan *pgx.Conn, len(sn.conns))
	for _, c := range sn.conns {
		sn.pool <- c
	}
	return sn, nil
}

// begin opens a connection in a REPEATABLE READ READ ONLY transaction.
func (sn *pgSnap) begin(ctx context.Context) (*pgx.Conn, error) {
	c, err := sn.srv.connect(ctx, sn.db)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); err != nil {
		c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	sn.conns = append(sn.conns, c)
	return c, nil
}

func (sn *pgSnap) at() time.Time { return sn.t }
func (sn *pgSnap) workers() int  { return len(sn.conns) }

func (sn *pgSnap) consistency() (string, string) {
	if sn.warn != "" {
		return "one REPEATABLE READ transaction (no exported snapshot)", sn.warn
	}
	return fmt.Sprintf("exported snapshot shared by %d REPEATABLE READ workers", len(sn.conns)), ""
}

// acquire takes a connection of the set, waiting for one to be free.
func (sn *pgSnap) acquire(ctx context.Context) (*pgx.Conn, error) {
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

// acquireSecond waits for a second connection while holding one; false
// when fewer than two are left alive (a connection dropped meanwhile),
// which would otherwise leave it waiting for good.
func (sn *pgSnap) acquireSecond(ctx context.Context) (*pgx.Conn, bool, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case c := <-sn.pool:
			return c, true, nil
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-tick.C:
			if sn.alive.Load() < 2 {
				return nil, false, nil
			}
		}
	}
}

// release returns c to the set; a connection broken by a failed or
// cancelled statement is dropped, and the set shrinks.
func (sn *pgSnap) release(c *pgx.Conn) {
	if c.IsClosed() || c.PgConn().TxStatus() != 'T' {
		c.Close(context.Background())
		sn.alive.Add(-1)
		return
	}
	sn.pool <- c
}

func (sn *pgSnap) close() error {
	var errs []error
	for _, c := range sn.conns {
		if c.IsClosed() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _ = c.Exec(ctx, "ROLLBACK")
		errs = append(errs, c.Close(ctx))
		cancel()
	}
	return errors.Join(errs...)
}
