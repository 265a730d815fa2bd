package relational

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// msNoSnapshotWarning is recorded when the database refuses SNAPSHOT.
const msNoSnapshotWarning = "SNAPSHOT isolation is off for this database (ALTER DATABASE ... SET ALLOW_SNAPSHOT_ISOLATION ON): " +
	"tables were read at READ COMMITTED, so the version is not consistent"

// msSnap is one connection in a SNAPSHOT transaction, which fixes its
// point at its first read and keeps it for every table of the run.
type msSnap struct {
	srv  *msServer
	db   string
	conn *sql.Conn
	pool chan *sql.Conn
	t    time.Time
	warn string
}

func (s *msServer) snapshot(ctx context.Context, db string, _ int) (snapshot, error) {
	c, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.redacted(), err)
	}
	sn := &msSnap{srv: s, db: db, conn: c, pool: make(chan *sql.Conn, 1)}
	var state int
	err = c.QueryRowContext(ctx, "SELECT snapshot_isolation_state FROM sys.databases WHERE name = @p1", db).Scan(&state)
	if err != nil {
		sn.close()
		return nil, fmt.Errorf("database %s on %s: %w", db, s.redacted(), err)
	}
	level := "SNAPSHOT"
	if state != 1 {
		level, sn.warn = "READ COMMITTED", msNoSnapshotWarning
	}
	for _, q := range []string{"USE " + msIdent(db), "SET TRANSACTION ISOLATION LEVEL " + level, "BEGIN TRANSACTION"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			sn.close()
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	// The snapshot is fixed by the transaction's first read of a table,
	// right after this point.
	if err := c.QueryRowContext(ctx, "SELECT SYSUTCDATETIME()").Scan(&sn.t); err != nil {
		sn.close()
		return nil, err
	}
	sn.pool <- c
	return sn, nil
}

func (sn *msSnap) at() time.Time { return sn.t.UTC() }
func (sn *msSnap) workers() int  { return 1 }

func (sn *msSnap) consistency() (string, string) {
	if sn.warn != "" {
		return "one READ COMMITTED transaction (not consistent)", sn.warn
	}
	return "one SNAPSHOT isolation transaction", ""
}

func (sn *msSnap) acquire(ctx context.Context) (*sql.Conn, error) {
	select {
	case c := <-sn.pool:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (sn *msSnap) release(c *sql.Conn) { sn.pool <- c }

func (sn *msSnap) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = sn.conn.ExecContext(ctx, "IF @@TRANCOUNT > 0 ROLLBACK")
	return sn.conn.Close()
}

// split reads a table in one range: the one connection reads one at a time.
func (sn *msSnap) split(context.Context, *table, int) ([]keyRange, error) { return []keyRange{{}}, nil }
