package relational

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"
)

// OptJobs is the LoadFlag giving how many connections COPY a new table's
// rows at once.
const OptJobs = "jobs"

// pgDefaultJobs is the default of OptJobs: one COPY is one server
// backend parsing rows on one core (measured: 95% of a core while the
// client uses 30%), so two split the work of a large table's load.
const pgDefaultJobs = 2

// pgStagedMin is the data size from which a new table is loaded by
// parallel COPYs into a staging table; smaller tables load in one
// transaction with COPY FREEZE, where parallel connections gain little.
// A variable so that tests take the staged path with small tables.
var pgStagedMin int64 = 64 << 20

// pgStageBlock is the size of the blocks of rows handed to the COPYs.
var pgStageBlock = 1 << 20

// pgStagingSchema is the schema where a staged load fills its table:
// named after the target, so a rerun after a killed load finds (and
// drops) what that load left.
func pgStagingSchema(target string) string {
	sum := sha256.Sum256([]byte(target))
	return pgStagingPrefix + hex.EncodeToString(sum[:6])
}

// pgStagingPrefix begins every staging schema's name.
const pgStagingPrefix = "strata_load_"

// pgIsStagingSchema reports whether s has the form of pgStagingSchema's
// names, which discovery leaves out (a user's strata_load_archive stays).
func pgIsStagingSchema(s string) bool {
	h, ok := strings.CutPrefix(s, pgStagingPrefix)
	return ok && len(h) == 12 && strings.Trim(h, "0123456789abcdef") == ""
}

// pgStagingLockKey is the advisory lock key of loads into target, from the
// same hash as its staging schema's name.
func pgStagingLockKey(target string) int64 {
	sum := sha256.Sum256([]byte(target))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// pgCleanupContext bounds a cleanup statement that runs even when ctx
// was cancelled, so that a server that stopped answering cannot hang it.
func pgCleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// errStagedTargetExists says the target exists (or appeared while the
// staged load waited for another load of it): the caller merges into it.
var errStagedTargetExists = errors.New("target exists")

// errNoStaging says the staged path cannot be taken (no privilege to
// create the staging schema): the caller loads in one transaction.
var errNoStaging = errors.New("no staging schema")

// pgLoadStaged loads a new table (or one replacing the target, --drop)
// by jobs parallel COPYs into a staging table, committed in a schema of
// its own, then in one transaction drops the old table (with --drop),
// moves the staging table into the target's schema (its sequences move
// with it), adds the key, indexes and constraints and sets sequences.
// Until that transaction commits the target is untouched: a failed or
// killed load leaves at most the staging schema, which the next load of
// the same target drops. The price against the one-transaction path:
// rows are not frozen (COPY FREEZE needs the table created in the same
// transaction as the COPY).
func pgLoadStaged(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, p *loadPlan, jobs int) (st loadStats, err error) {
	target := pgIdent(p.schema, p.table)
	// Loads of one target take turns: the staging schema is named after
	// the target, and a second load would drop the first's as a
	// leftover. The lock is the session's, so a killed load releases it.
	key := pgStagingLockKey(target)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return st, fmt.Errorf("wait for other loads of %s: %w", target, err)
	}
	defer func() {
		cctx, cancel := pgCleanupContext(ctx)
		defer cancel()
		if _, uerr := conn.Exec(cctx, "SELECT pg_advisory_unlock($1)", key); uerr != nil && err == nil {
			err = fmt.Errorf("release the load lock of %s: %w", target, uerr)
		}
	}()
	if !p.drop {
		// The target may exist, or a load that ran while this one waited
		// may have created it: then this one merges into it (the caller's
		// other path).
		if exists, err := pgExists(ctx, conn, target); err != nil || exists {
			return st, cmp.Or(err, errStagedTargetExists)
		}
	}
	return pgFillStaged(ctx, cfg, conn, p, jobs, target)
}

// pgFillStaged is pgLoadStaged under its lock: the staging table filled,
// then moved into place.
func pgFillStaged(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, p *loadPlan, jobs int, target string) (st loadStats, err error) {
	st.Target, st.Created, st.Copies = target, true, jobs
	name := pgStagingSchema(target)
	stage := pgx.Identifier{name}.Sanitize()
	staged := pgx.Identifier{name, p.table}.Sanitize()
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+stage+" CASCADE"); err != nil {
		return st, fmt.Errorf("drop the staging schema %s a previous load left: %w", stage, err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+stage); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42501" {
			return st, errNoStaging
		}
		return st, fmt.Errorf("create the staging schema %s: %w", stage, err)
	}
	defer func() {
		cctx, cancel := pgCleanupContext(ctx)
		defer cancel()
		if _, derr := conn.Exec(cctx, "DROP SCHEMA IF EXISTS "+stage+" CASCADE"); derr != nil && err == nil {
			err = fmt.Errorf("drop the staging schema %s: %w", stage, derr)
		}
	}()
	if _, err := conn.Exec(ctx, pgCreateTable(p.l, staged)); err != nil {
		return st, fmt.Errorf("create table: %w", err)
	}
	conns := []*pgx.Conn{conn}
	defer func() {
		for _, c := range conns[1:] {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	for len(conns) < jobs {
		c, err := pgConnectDB(ctx, cfg, p.db)
		if err != nil {
			return st, err
		}
		conns = append(conns, c)
	}
	rc, err := p.open(ctx, p.data)
	if err != nil {
		return st, err
	}
	defer rc.Close()
	if st.Rows, err = pgCopyParallel(ctx, conns, rc, "COPY "+staged+" ("+pgColumnList(p.l.dataCols())+") FROM STDIN"); err != nil {
		return st, fmt.Errorf("copy %s in: %w", p.data, err)
	}
	return st, pgMoveStaged(ctx, conn, p, staged, target, &st)
}

// pgMoveStaged is the staged load's one transaction: the staging table
// becomes the target.
func pgMoveStaged(ctx context.Context, conn *pgx.Conn, p *loadPlan, staged, target string, st *loadStats) error {
	schema := pgx.Identifier{p.schema}.Sanitize()
	return pgInTx(ctx, conn, func() error {
		if err := pgDropIfAsked(ctx, conn, p, target); err != nil {
			return err
		}
		if err := pgEnsureSchema(ctx, conn, p.schema); err != nil {
			return err
		}
		if err := pgFreeSequenceNames(ctx, conn, staged, p.schema); err != nil {
			return err
		}
		if _, err := conn.Exec(ctx, "ALTER TABLE "+staged+" SET SCHEMA "+schema); err != nil {
			return fmt.Errorf("move the loaded table into %s: %w", schema, err)
		}
		return pgFinish(ctx, conn, p, target, st)
	})
}

// pgCopyParallel runs sql (a COPY FROM STDIN) on every connection at
// once, handing each the next block of r's rows when it asks: blocks
// end after a newline, which in COPY text always ends a row (newlines in
// values are written \n). It returns the rows copied.
func pgCopyParallel(ctx context.Context, conns []*pgx.Conn, r io.Reader, sql string) (int64, error) {
	g, gctx := errgroup.WithContext(ctx)
	blocks := make(chan []byte, 2*len(conns))
	g.Go(func() error {
		defer close(blocks)
		return splitRows(gctx, r, pgStageBlock, blocks)
	})
	var rows atomic.Int64
	for _, c := range conns {
		g.Go(func() error {
			tag, err := c.PgConn().CopyFrom(gctx, &blockReader{ctx: gctx, blocks: blocks}, sql)
			rows.Add(tag.RowsAffected())
			return err
		})
	}
	err := g.Wait()
	return rows.Load(), err
}

// splitRows reads r into blocks of about size bytes, each ending after a
// newline (a row longer than size makes its block longer), and sends
// them; the last block holds what follows the last newline, if anything.
func splitRows(ctx context.Context, r io.Reader, size int, out chan<- []byte) error {
	var carry []byte
	for {
		buf := make([]byte, len(carry), max(size, 2*len(carry)))
		copy(buf, carry)
		n, err := io.ReadFull(r, buf[len(carry):cap(buf)])
		buf = buf[:len(carry)+n]
		last := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !last {
			return err
		}
		cut := len(buf)
		if !last {
			cut = bytes.LastIndexByte(buf, '\n') + 1
		}
		carry = buf[cut:]
		if cut > 0 {
			select {
			case out <- buf[:cut:cut]:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if last {
			return nil
		}
	}
}

// blockReader reads the blocks one COPY takes from the shared channel.
type blockReader struct {
	ctx    context.Context
	blocks <-chan []byte
	cur    []byte
}

func (b *blockReader) Read(p []byte) (int, error) {
	for len(b.cur) == 0 {
		select {
		case blk, ok := <-b.blocks:
			if !ok {
				return 0, io.EOF
			}
			b.cur = blk
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
	}
	n := copy(p, b.cur)
	b.cur = b.cur[n:]
	return n, nil
}

// pgFreeSequenceNames renames the staged table's serial and identity
// sequences whose names are taken in the target schema, as CREATE TABLE
// there would have named them (<table>_<column>_seq1, ...): they move with
// the table, and a name taken there would fail the move.
func pgFreeSequenceNames(ctx context.Context, conn *pgx.Conn, staged, schema string) error {
	rows, err := conn.Query(ctx, `SELECT n.nspname, s.relname FROM pg_depend d
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		JOIN pg_namespace n ON n.oid = s.relnamespace
		WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		AND d.refobjid = $1::regclass AND d.deptype IN ('a', 'i')`, staged)
	if err != nil {
		return fmt.Errorf("list the sequences of %s: %w", staged, err)
	}
	type seq struct{ NS, Name string }
	seqs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[seq])
	if err != nil {
		return fmt.Errorf("list the sequences of %s: %w", staged, err)
	}
	for _, sq := range seqs {
		name := sq.Name
		for n := 1; ; n++ {
			taken, err := pgExists(ctx, conn, pgIdent(schema, name))
			if err != nil {
				return err
			}
			if !taken {
				break
			}
			name = fmt.Sprintf("%s%d", sq.Name, n)
		}
		if name != sq.Name {
			q := "ALTER SEQUENCE " + pgx.Identifier{sq.NS, sq.Name}.Sanitize() + " RENAME TO " + pgx.Identifier{name}.Sanitize()
			if _, err := conn.Exec(ctx, q); err != nil {
				return fmt.Errorf("rename sequence %s.%s to %s: %w", sq.NS, sq.Name, name, err)
			}
		}
	}
	return nil
}
