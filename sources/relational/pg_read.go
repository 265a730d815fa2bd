package relational

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// read copies one key range out with COPY ... TO STDOUT, in key order;
// the server formats every value as COPY FROM reads it back.
func (sn *pgSnap) read(ctx context.Context, t *table, r keyRange, emit func([]byte) error) error {
	c, err := sn.acquire(ctx)
	if err != nil {
		return err
	}
	defer sn.release(c)
	q := "SELECT " + pgColumnList(columnNames(t.dataColumns())) + " FROM " + pgIdent(t.Schema, t.Name)
	if where := pgRangeWhere(t, r); where != "" {
		q += " WHERE " + where
	}
	if t.Key != nil {
		q += " ORDER BY " + pgKeyList(t)
	}
	w := &lineWriter{emit: emit}
	if _, err := c.PgConn().CopyTo(ctx, w, "COPY ("+q+") TO STDOUT"); err != nil {
		return fmt.Errorf("copy %s out: %w", pgIdent(t.Schema, t.Name), err)
	}
	return w.flush()
}

// pgRangeWhere is the condition of a key range: row comparisons on the
// key, so that the primary key's index serves it.
func pgRangeWhere(t *table, r keyRange) string {
	var conds []string
	if r.Lo != nil {
		conds = append(conds, "("+pgKeyList(t)+") >= ("+pgKeyLiterals(t, r.Lo)+")")
	}
	if r.Hi != nil {
		conds = append(conds, "("+pgKeyList(t)+") < ("+pgKeyLiterals(t, r.Hi)+")")
	}
	return strings.Join(conds, " AND ")
}

func pgKeyLiterals(t *table, vals []string) string {
	data := t.dataColumns()
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = pgLiteral(v, data[t.Key[i]].Type)
	}
	return strings.Join(parts, ", ")
}

// split samples the key (TABLESAMPLE SYSTEM) and cuts at its quantiles.
func (sn *pgSnap) split(ctx context.Context, t *table, parts int) ([]keyRange, error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer sn.release(c)
	pct := min(100, float64(parts*200)*100/float64(max(t.Rows, 1)))
	data := t.dataColumns()
	sel := make([]string, len(t.Key))
	for i, k := range t.Key {
		// Aliased: ORDER BY "id" would otherwise sort the text output
		// column, not the key.
		sel[i] = pgColumnList([]string{data[k].Name}) + "::text AS k" + strconv.Itoa(i)
	}
	q := fmt.Sprintf("SELECT %s FROM %s TABLESAMPLE SYSTEM (%s) ORDER BY %s", strings.Join(sel, ", "),
		pgIdent(t.Schema, t.Name), strconv.FormatFloat(pct, 'f', 6, 64), pgKeyList(t))
	rows, err := c.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("sample the key of %s: %w", pgIdent(t.Schema, t.Name), err)
	}
	defer rows.Close()
	var sample [][]string
	for rows.Next() {
		vals := make([]string, len(t.Key))
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		sample = append(sample, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return cutRanges(sample, parts), nil
}

// cutRanges turns a sorted sample of keys into about parts ranges that
// cover the whole key space.
func cutRanges(sample [][]string, parts int) []keyRange {
	var bounds [][]string
	for i := 1; i < parts; i++ {
		j := i * len(sample) / parts
		if j >= len(sample) {
			break
		}
		b := sample[j]
		if len(bounds) > 0 && strings.Join(bounds[len(bounds)-1], "\x00") == strings.Join(b, "\x00") {
			continue
		}
		bounds = append(bounds, b)
	}
	ranges := make([]keyRange, len(bounds)+1)
	for i, b := range bounds {
		ranges[i].Hi = b
		ranges[i+1].Lo = b
	}
	return ranges
}

// lineWriter hands what COPY writes to emit one line at a time.
type lineWriter struct {
	emit    func([]byte) error
	partial []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.partial) > 0 {
		w.partial = append(w.partial, p...)
		p, w.partial = w.partial, nil
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.partial = append(w.partial, p...)
			break
		}
		if err := w.emit(p[:i+1]); err != nil {
			return 0, err
		}
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() error {
	if len(w.partial) > 0 {
		return fmt.Errorf("COPY output ends in an unterminated row")
	}
	return nil
}

// schema runs pg_dump --schema-only for the table at the exported
// snapshot; without pg_dump (or when it fails, e.g. an older pg_dump than
// the server) the DDL is generated from the catalogs.
func (sn *pgSnap) schema(ctx context.Context, t *table) ([]byte, error) {
	if t.View {
		return []byte("CREATE VIEW " + pgIdent(t.Schema, t.Name) + " AS\n" + t.ViewDef + "\n"), nil
	}
	out, err := sn.pgDump(ctx, t)
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	sn.srv.log().Info("pg_dump unavailable; generating schema.sql from the catalogs", "table", pgIdent(t.Schema, t.Name), "reason", err)
	l := &layout{schema: t.Schema, table: t.Name, cols: t.Columns, indexes: t.Indexes}
	if t.Key != nil {
		data := t.dataColumns()
		for _, k := range t.Key {
			l.key = append(l.key, data[k].Name)
		}
	}
	return []byte(pgDDL(l, t.Schema, t.Name, true)), nil
}

// pgDump runs pg_dump for one table; the connection settings go in the
// environment, never on its command line.
func (sn *pgSnap) pgDump(ctx context.Context, t *table) ([]byte, error) {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return nil, err
	}
	args := []string{"--schema-only", "--no-owner", "--no-privileges", "-t", pgDumpPattern(t.Schema, t.Name)}
	if sn.id != "" {
		args = append(args, "--snapshot="+sn.id)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cfg := sn.srv.cfg
	cmd.Env = append(os.Environ(), "PGHOST="+cfg.Host, "PGPORT="+strconv.Itoa(int(cfg.Port)), "PGUSER="+cfg.User,
		"PGPASSWORD="+cfg.Password, "PGDATABASE="+sn.db, "PGSSLMODE="+pgSSLMode(cfg.TLSConfig != nil), "PGCONNECT_TIMEOUT=10")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pg_dump: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if !bytes.Contains(out, []byte("CREATE TABLE")) {
		return nil, fmt.Errorf("pg_dump printed no CREATE TABLE")
	}
	return stripRestrict(out), nil
}

// stripRestrict drops the \restrict and \unrestrict lines of newer
// pg_dumps: they hold a random key, which would make every schema.sql
// differ from the previous one, and psql loads the file without them.
func stripRestrict(out []byte) []byte {
	lines := bytes.SplitAfter(out, []byte("\n"))
	kept := lines[:0]
	for _, l := range lines {
		if !bytes.HasPrefix(l, []byte(`\restrict `)) && !bytes.HasPrefix(l, []byte(`\unrestrict `)) {
			kept = append(kept, l)
		}
	}
	return bytes.Join(kept, nil)
}

func pgSSLMode(tls bool) string {
	if tls {
		return "require"
	}
	return "disable"
}

// pgDumpPattern quotes a name as a pg_dump -t pattern: inside double
// quotes wildcards are literal; a double quote is written twice.
func pgDumpPattern(schema, name string) string {
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	return q(schema) + "." + q(name)
}
