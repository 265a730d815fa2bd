package relational

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// read selects one key range in key order and writes each row as a line
// of LOAD DATA's default text format. When r carries block sums (a table
// keyed by one integer, blocks.go), each row's values are also hashed
// into the sum of its key's block, in the encoding the server's block
// checksum uses (myRowEncoding).
func (sn *mySnap) read(ctx context.Context, t *table, r keyRange, emit func([]byte) error) (err error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return err
	}
	defer func() { sn.release(c, err != nil) }()
	q, err := mySelect(t, r)
	if err != nil {
		return err
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("select from %s: %w", myIdent(t.Schema, t.Name), err)
	}
	defer rows.Close()
	n := len(t.dataColumns())
	vals := make([]sql.RawBytes, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var line []byte
	var rh myRowHasher
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		line = line[:0]
		for i, v := range vals {
			if i > 0 {
				line = append(line, '\t')
			}
			line = appendTSV(line, v)
		}
		line = append(line, '\n')
		if r.sums != nil {
			if err := rh.add(r.sums, t, vals, len(line)); err != nil {
				return err
			}
		}
		if err := emit(line); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select from %s: %w", myIdent(t.Schema, t.Name), err)
	}
	return nil
}

// mySelect is the query of one range. Range bounds are integers (see
// split), checked before they are put in the statement.
func mySelect(t *table, r keyRange) (string, error) {
	data := t.dataColumns()
	sel := make([]string, len(data))
	for i, c := range data {
		sel[i] = myIdent(c.Name)
		if c.Read != "" {
			sel[i] = c.Read
		}
	}
	where, err := myRangeWhere(t, r)
	if err != nil {
		return "", err
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + myIdent(t.Schema, t.Name) + where
	if t.Key != nil {
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = myIdent(data[k].Name)
		}
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	return q, nil
}

// myRangeWhere is the WHERE clause of a range ("" for the whole table).
func myRangeWhere(t *table, r keyRange) (string, error) {
	var conds []string
	for _, b := range []struct {
		v  []string
		op string
	}{{r.Lo, ">="}, {r.Hi, "<"}} {
		if b.v == nil {
			continue
		}
		if _, err := strconv.ParseInt(b.v[0], 10, 64); err != nil {
			return "", fmt.Errorf("key range bound %q is not an integer", b.v[0])
		}
		conds = append(conds, myIdent(t.dataColumns()[t.Key[0]].Name)+" "+b.op+" "+b.v[0])
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), nil
}

// appendTSV appends v as a field of LOAD DATA's default format (FIELDS
// TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n'): NULL is
// \N; backslash, tab, newline, carriage return and NUL are escaped. Runs
// of bytes that need no escape (most of any value) are copied at once.
func appendTSV(dst []byte, v sql.RawBytes) []byte {
	if v == nil {
		return append(dst, `\N`...)
	}
	start := 0
	for i, c := range v {
		if !tsvEscaped[c] {
			continue
		}
		dst = append(dst, v[start:i]...)
		start = i + 1
		switch c {
		case '\\':
			dst = append(dst, `\\`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case 0:
			dst = append(dst, `\0`...)
		}
	}
	return append(dst, v[start:]...)
}

// tsvEscaped marks the bytes appendTSV escapes.
var tsvEscaped = [256]bool{'\\': true, '\t': true, '\n': true, '\r': true, 0: true}

// extras is load.sql: the LOAD DATA statement that loads the data file
// into a table of the version's name in the current database, with the
// session settings the file was written under.
func (myDialect) extras(t *table, dataFile string) []file {
	if t.View {
		return nil
	}
	sql := mySessionSQL + myLoadSQL(t.dataColumns(), myString(dataFile), myIdent(t.Name), "") + ";\n"
	return []file{{Name: "load.sql", Data: []byte(sql)}}
}

// myLoadSQL is the LOAD DATA statement for cols from the quoted file
// name (or 'Reader::name') into target; mode is "", "REPLACE" or "IGNORE".
func myLoadSQL(cols []column, quotedFile, target, mode string) string {
	var list, set []string
	for i, c := range cols {
		if c.Load == "" && !strings.HasPrefix(strings.ToLower(c.Type), "bit") {
			list = append(list, myIdent(c.Name))
			continue
		}
		v := "@v" + strconv.Itoa(i)
		list = append(list, v)
		set = append(set, myIdent(c.Name)+" = CAST("+v+" AS UNSIGNED)")
	}
	q := "LOAD DATA LOCAL INFILE " + quotedFile + " " + mode + " INTO TABLE " + target +
		" CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (" + strings.Join(list, ", ") + ")"
	if len(set) > 0 {
		q += " SET " + strings.Join(set, ", ")
	}
	return q
}

// mySessionSQL are the settings load.sql gives before LOAD DATA: those the
// file was written under.
const mySessionSQL = "SET NAMES utf8mb4;\nSET time_zone = '+00:00';\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES';\n"

// diffExtras is a @diff's load.sql: it deletes the rows whose keys
// <table>.deleted lists (through a temporary table), then loads the
// changed rows with REPLACE, so that running it on the older version's
// table gives the newer one. (Plain LOAD DATA LOCAL would skip rows whose
// key exists.)
func (myDialect) diffExtras(l *layout, dataFile, deletedFile string) []file {
	keys := l.key
	if keys == nil {
		keys = l.dataCols()
	}
	var cols []column
	sel, on := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		for _, c := range l.cols {
			if c.Name == k {
				cols = append(cols, c)
			}
		}
		sel[i] = myIdent(k)
		on[i] = "t." + myIdent(k) + " <=> d." + myIdent(k)
	}
	target, tmp := myIdent(l.table), myIdent("strata_deleted")
	q := mySessionSQL +
		"DROP TEMPORARY TABLE IF EXISTS " + tmp + ";\n" +
		"CREATE TEMPORARY TABLE " + tmp + " SELECT " + strings.Join(sel, ", ") + " FROM " + target + " LIMIT 0;\n" +
		myLoadSQL(cols, myString(deletedFile), tmp, "") + ";\n" +
		"DELETE t FROM " + target + " t JOIN " + tmp + " d ON " + strings.Join(on, " AND ") + ";\n" +
		myLoadSQL((&table{Columns: l.cols}).dataColumns(), myString(dataFile), target, "REPLACE") + ";\n"
	return []file{{Name: "load.sql", Data: []byte(q)}}
}
