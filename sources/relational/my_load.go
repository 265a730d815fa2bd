package relational

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"

	"github.com/stratabackup/strata/sources"
)

// myLoader is the Loader of `strata restore --to-mysql`.
type myLoader struct{}

// readerSeq names LOAD DATA LOCAL readers uniquely.
var readerSeq atomic.Int64

// Load loads a version or a @diff into a MariaDB/MySQL database: a new
// table is created from schema.sql (renamed as asked), rows go in through
// LOAD DATA LOCAL INFILE ... REPLACE, so a rerun leaves the same rows;
// a @diff's deleted keys are deleted through a temporary table.
// AUTO_INCREMENT moves past the loaded maximum by itself (InnoDB).
func (myLoader) Load(ctx context.Context, dsn string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	p, err := planLoad(myDialect{}, v, opts)
	if err != nil {
		return sources.LoadResult{}, fmt.Errorf("restore to mysql: %w", err)
	}
	p.schema = p.db // MySQL's schema is its database
	cfg, err := myConfig(dsn)
	if err != nil {
		return sources.LoadResult{}, err
	}
	conn, db, err := myConnectDB(ctx, cfg, p.db)
	if err != nil {
		return sources.LoadResult{}, err
	}
	defer db.Close()
	defer conn.Close()
	st, err := myLoad(ctx, conn, p)
	if err != nil {
		return sources.LoadResult{}, fmt.Errorf("restore %s into %s on %s: %w", p.l.table, st.Target, myRedacted(cfg), err)
	}
	return st.result(), nil
}

// myConnectDB creates db if needed and returns a connection using it.
func myConnectDB(ctx context.Context, cfg *mysql.Config, db string) (*sql.Conn, *sql.DB, error) {
	c := cfg.Clone()
	c.DBName = db
	pool, err := myOpen(c)
	if err != nil {
		return nil, nil, err
	}
	conn, err := pool.Conn(ctx)
	if err == nil {
		_, err = conn.ExecContext(ctx, "SELECT 1")
	}
	var me *mysql.MySQLError
	if err != nil && asMySQLError(err, &me) && me.Number == 1049 { // unknown database
		conn.Close()
		pool.Close()
		admin := cfg.Clone()
		admin.DBName = ""
		if pool, err = myOpen(admin); err != nil {
			return nil, nil, err
		}
		if conn, err = pool.Conn(ctx); err == nil {
			_, err = conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+myIdent(db))
		}
		if err == nil {
			_, err = conn.ExecContext(ctx, "USE "+myIdent(db))
		}
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		return nil, nil, fmt.Errorf("connect to %s database %s: %w", myRedacted(cfg), db, err)
	}
	return conn, pool, nil
}

func asMySQLError(err error, me **mysql.MySQLError) bool {
	e, ok := err.(*mysql.MySQLError)
	if ok {
		*me = e
	}
	return ok
}

func myLoad(ctx context.Context, conn *sql.Conn, p *loadPlan) (st loadStats, err error) {
	target := myIdent(p.table)
	st.Target = myIdent(p.db, p.table)
	if p.drop {
		if _, err := conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+target); err != nil {
			return st, fmt.Errorf("drop: %w", err)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?", p.db, p.table).Scan(&n); err != nil {
		return st, err
	}
	if n == 0 {
		st.Created = true
		if err := myCreate(ctx, conn, p, target); err != nil {
			return st, err
		}
	} else if p.l.key == nil && p.deleted == "" {
		if _, err := conn.ExecContext(ctx, "TRUNCATE TABLE "+target); err != nil {
			return st, err
		}
		st.Replaced = true
	}
	if p.deleted != "" {
		if err := myDelete(ctx, conn, p, target, &st); err != nil {
			return st, err
		}
	}
	rows, err := myLoadFile(ctx, conn, p, p.data, target, (&table{Columns: p.l.cols}).dataColumns())
	st.Rows = rows
	return st, err
}

// myCreate creates the target from schema.sql, renamed.
func myCreate(ctx context.Context, conn *sql.Conn, p *loadPlan, target string) error {
	rc, err := p.open(ctx, schemaFile)
	if err != nil {
		return err
	}
	ddl, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", schemaFile, err)
	}
	prefix := "CREATE TABLE " + myIdent(p.l.table)
	if !bytes.HasPrefix(ddl, []byte(prefix)) {
		return fmt.Errorf("%s does not start with %s", schemaFile, prefix)
	}
	stmt := "CREATE TABLE IF NOT EXISTS " + target + strings.TrimSuffix(strings.TrimSpace(string(ddl[len(prefix):])), ";")
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	return nil
}

// myLoadFile streams a version's file through LOAD DATA LOCAL INFILE.
func myLoadFile(ctx context.Context, conn *sql.Conn, p *loadPlan, path, target string, cols []column) (int64, error) {
	rc, err := p.open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	name := "strata-" + strconv.FormatInt(readerSeq.Add(1), 10)
	mysql.RegisterReaderHandler(name, func() io.Reader { return rc })
	defer mysql.DeregisterReaderHandler(name)
	for _, s := range strings.Split(strings.TrimSpace(mySessionSQL), "\n") {
		if _, err := conn.ExecContext(ctx, strings.TrimSuffix(s, ";")); err != nil {
			return 0, fmt.Errorf("%s: %w", s, err)
		}
	}
	res, err := conn.ExecContext(ctx, myLoadSQL(cols, "'Reader::"+name+"'", target, "REPLACE"))
	if err != nil {
		return 0, fmt.Errorf("load %s: %w", path, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// myDelete deletes a @diff's keys (whole rows without a key).
func myDelete(ctx context.Context, conn *sql.Conn, p *loadPlan, target string, st *loadStats) error {
	keys := p.l.key
	if keys == nil {
		keys = p.l.dataCols()
	}
	var cols []column
	var on []string
	for _, k := range keys {
		for _, c := range p.l.cols {
			if c.Name == k {
				cols = append(cols, c)
			}
		}
		on = append(on, "t."+myIdent(k)+" <=> d."+myIdent(k))
	}
	tmp := myIdent("strata_load_deleted")
	if _, err := conn.ExecContext(ctx, "DROP TEMPORARY TABLE IF EXISTS "+tmp); err != nil {
		return err
	}
	sel := make([]string, len(keys))
	for i, k := range keys {
		sel[i] = myIdent(k)
	}
	if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE "+tmp+" SELECT "+strings.Join(sel, ", ")+" FROM "+target+" LIMIT 0"); err != nil {
		return fmt.Errorf("temporary table: %w", err)
	}
	if _, err := myLoadFile(ctx, conn, p, p.deleted, tmp, cols); err != nil {
		return err
	}
	res, err := conn.ExecContext(ctx, "DELETE t FROM "+target+" t JOIN "+tmp+" d ON "+strings.Join(on, " AND "))
	if err != nil {
		return fmt.Errorf("delete rows: %w", err)
	}
	st.Deleted, _ = res.RowsAffected()
	return nil
}
