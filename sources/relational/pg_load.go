package relational

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/stratabackup/strata/sources"
)

// pgLoader is the Loader of `strata restore --to-postgres`.
type pgLoader struct{}

// Load loads a version or a @diff into a PostgreSQL database in one
// transaction: a new table is created without its key and indexes, filled
// by COPY FROM STDIN, then gets them (a large one is filled by parallel
// COPYs into a staging table first: pgLoadStaged); into an existing table
// the rows are upserted by key from a COPY into a temporary table, so a
// rerun changes nothing. Identity and serial sequences are set past the
// loaded maximum.
func (pgLoader) Load(ctx context.Context, dsn string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	p, err := planLoad(pgDialect{}, v, opts)
	if err != nil {
		return sources.LoadResult{}, fmt.Errorf("restore to postgres: %w", err)
	}
	jobs, err := opts.Extra.Count(OptJobs, 64)
	if err != nil {
		return sources.LoadResult{}, fmt.Errorf("restore to postgres: %w", err)
	}
	if jobs == 0 {
		jobs = pgDefaultJobs
	}
	cfg, err := pgConfig(dsn)
	if err != nil {
		return sources.LoadResult{}, err
	}
	conn, err := pgConnectDB(ctx, cfg, p.db)
	if err != nil {
		return sources.LoadResult{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	st, err := pgLoadAny(ctx, cfg, conn, p, jobs)
	if err != nil {
		return sources.LoadResult{}, fmt.Errorf("restore %s into %s on %s: %w", p.l.table, st.Target, pgRedacted(conn.Config()), err)
	}
	return st.result(), nil
}

// pgConnectDB connects to db, creating it when it does not exist.
func pgConnectDB(ctx context.Context, cfg *pgx.ConnConfig, db string) (*pgx.Conn, error) {
	c := cfg.Copy()
	c.Database = db
	conn, err := pgx.ConnectConfig(ctx, c)
	var pe *pgconn.PgError
	if err != nil && errors.As(err, &pe) && pe.Code == "3D000" {
		admin, aerr := pgx.ConnectConfig(ctx, cfg)
		if aerr != nil {
			return nil, fmt.Errorf("connect to %s: %w", pgRedacted(cfg), aerr)
		}
		_, aerr = admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
		admin.Close(ctx)
		if aerr != nil {
			return nil, fmt.Errorf("create database %s on %s: %w", db, pgRedacted(cfg), aerr)
		}
		conn, err = pgx.ConnectConfig(ctx, c)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", pgRedacted(c), err)
	}
	return conn, nil
}

// pgLoadAny takes the staged path for a large new (or replaced) table
// when jobs > 1, else (or when the staging schema cannot be created, or
// the target exists and is merged into) the one-transaction path.
func pgLoadAny(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn, p *loadPlan, jobs int) (loadStats, error) {
	if jobs > 1 && p.size >= pgStagedMin {
		st, err := pgLoadStaged(ctx, cfg, conn, p, jobs)
		if !errors.Is(err, errNoStaging) && !errors.Is(err, errStagedTargetExists) {
			return st, err
		}
	}
	return pgLoad(ctx, conn, p)
}

func pgLoad(ctx context.Context, conn *pgx.Conn, p *loadPlan) (st loadStats, err error) {
	target := pgIdent(p.schema, p.table)
	st.Target = target
	err = pgInTx(ctx, conn, func() error {
		if err := pgDropIfAsked(ctx, conn, p, target); err != nil {
			return err
		}
		exists, err := pgExists(ctx, conn, target)
		if err != nil {
			return err
		}
		if !exists {
			st.Created = true
			if err := pgEnsureSchema(ctx, conn, p.schema); err != nil {
				return err
			}
			if _, err := conn.Exec(ctx, pgCreateTable(p.l, target)); err != nil {
				return fmt.Errorf("create table: %w", err)
			}
		}
		if err := pgLoadRows(ctx, conn, p, target, &st); err != nil {
			return err
		}
		return pgFinish(ctx, conn, p, target, &st)
	})
	return st, err
}

// pgInTx runs fn in one transaction on conn: committed when fn succeeds,
// rolled back when it fails.
func pgInTx(ctx context.Context, conn *pgx.Conn, fn func() error) error {
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	_, err := conn.Exec(ctx, "COMMIT")
	return err
}

// pgDropIfAsked drops the target table when the load replaces it (--drop).
func pgDropIfAsked(ctx context.Context, conn *pgx.Conn, p *loadPlan, target string) error {
	if !p.drop {
		return nil
	}
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+target+" CASCADE"); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	return nil
}

// pgEnsureSchema creates schema when it is missing. Only then: even with
// IF NOT EXISTS, CREATE SCHEMA needs CREATE on the database, which a user
// loading into an existing schema (public, say) need not have.
func pgEnsureSchema(ctx context.Context, conn *pgx.Conn, schema string) error {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil || exists {
		return err
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	return nil
}

// pgExists reports whether the relation name (quoted, schema-qualified)
// exists.
func pgExists(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", name).Scan(&exists)
	return exists, err
}

// pgLoadRows copies the data file in: straight into a new (or emptied)
// table with FREEZE, so its rows need no vacuum to be seen by all; else
// through a temporary table and an upsert, after a @diff's deletes.
func pgLoadRows(ctx context.Context, conn *pgx.Conn, p *loadPlan, target string, st *loadStats) error {
	cols := pgColumnList(p.l.dataCols())
	if st.Created || (p.l.key == nil && p.deleted == "") {
		if !st.Created {
			if _, err := conn.Exec(ctx, "TRUNCATE "+target); err != nil {
				return err
			}
			st.Replaced = true
		}
		n, err := pgCopyIn(ctx, conn, p, p.data, "COPY "+target+" ("+cols+") FROM STDIN (FREEZE)")
		st.Rows = n
		return err
	}
	tmp := `"strata_load_rows"`
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+tmp+" ON COMMIT DROP AS SELECT "+cols+" FROM "+target+" WITH NO DATA"); err != nil {
		return fmt.Errorf("temporary table: %w", err)
	}
	if _, err := pgCopyIn(ctx, conn, p, p.data, "COPY "+tmp+" ("+cols+") FROM STDIN"); err != nil {
		return err
	}
	if p.deleted != "" {
		if err := pgDelete(ctx, conn, p, target, st); err != nil {
			return err
		}
	}
	tag, err := conn.Exec(ctx, pgUpsert(p.l, target, tmp))
	if err != nil {
		return fmt.Errorf("merge rows: %w", err)
	}
	st.Rows = tag.RowsAffected()
	return nil
}

func pgCopyIn(ctx context.Context, conn *pgx.Conn, p *loadPlan, path, sql string) (int64, error) {
	rc, err := p.open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	tag, err := conn.PgConn().CopyFrom(ctx, rc, sql)
	if err != nil {
		return 0, fmt.Errorf("copy %s in: %w", path, err)
	}
	return tag.RowsAffected(), nil
}

// pgUpsert inserts the temporary table's rows, replacing rows of the same
// key (rows equal already are left alone, so a rerun writes nothing).
func pgUpsert(l *layout, target, tmp string) string {
	cols := l.dataCols()
	q := "INSERT INTO " + target + " (" + pgColumnList(cols) + ") "
	for _, c := range l.cols {
		if c.Identity == "a" {
			q += "OVERRIDING SYSTEM VALUE "
			break
		}
	}
	q += "SELECT " + pgColumnList(cols) + " FROM " + tmp
	if l.key == nil {
		return q
	}
	var set, differ []string
	for _, c := range cols {
		if !contains(l.key, c) {
			id := pgx.Identifier{c}.Sanitize()
			set = append(set, id+" = EXCLUDED."+id)
			differ = append(differ, "t."+id)
		}
	}
	q += " ON CONFLICT (" + pgColumnList(l.key) + ") DO "
	if len(set) == 0 {
		return q + "NOTHING"
	}
	excl := make([]string, len(differ))
	for i, d := range differ {
		excl[i] = "EXCLUDED." + strings.TrimPrefix(d, "t.")
	}
	return strings.Replace(q, "INSERT INTO "+target, "INSERT INTO "+target+" AS t", 1) + "UPDATE SET " + strings.Join(set, ", ") +
		" WHERE ROW(" + strings.Join(differ, ", ") + ")::text IS DISTINCT FROM ROW(" + strings.Join(excl, ", ") + ")::text"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// pgDelete applies a @diff's deleted keys (whole rows for a table
// without a key).
func pgDelete(ctx context.Context, conn *pgx.Conn, p *loadPlan, target string, st *loadStats) error {
	keys := p.l.key
	if keys == nil {
		keys = p.l.dataCols()
	}
	tmp := `"strata_load_deleted"`
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE "+tmp+" ON COMMIT DROP AS SELECT "+pgColumnList(keys)+" FROM "+target+" WITH NO DATA"); err != nil {
		return fmt.Errorf("temporary table: %w", err)
	}
	if _, err := pgCopyIn(ctx, conn, p, p.deleted, "COPY "+tmp+" ("+pgColumnList(keys)+") FROM STDIN"); err != nil {
		return err
	}
	tl, dl := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		id := pgx.Identifier{k}.Sanitize()
		tl[i], dl[i] = "t."+id, "d."+id
	}
	tag, err := conn.Exec(ctx, "DELETE FROM "+target+" t USING "+tmp+" d WHERE ROW("+strings.Join(tl, ", ")+")::text = ROW("+strings.Join(dl, ", ")+")::text")
	if err != nil {
		return fmt.Errorf("delete rows: %w", err)
	}
	st.Deleted = tag.RowsAffected()
	return nil
}
