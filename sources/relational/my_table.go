package relational

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// describe reads a table's columns, key and size from information_schema.
func (sn *mySnap) describe(ctx context.Context, name tableName) (t *table, err error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { sn.release(c, err != nil && ctx.Err() != nil) }()
	t = &table{tableName: name}
	var typ string
	err = c.QueryRowContext(ctx, `SELECT TABLE_TYPE, coalesce(TABLE_ROWS, 0) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?`, name.Schema, name.Name).Scan(&typ, &t.Rows)
	if err == sql.ErrNoRows {
		return nil, fmt.Errorf("table %s not found (dropped since discovery, or no SELECT privilege on it)", myIdent(name.Schema, name.Name))
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", myIdent(name.Schema, name.Name), err)
	}
	t.View = typ == "VIEW"
	if t.View {
		return t, nil
	}
	if err := myColumns(ctx, c, t); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", myIdent(name.Schema, name.Name), err)
	}
	return t, nil
}

func myColumns(ctx context.Context, c *sql.Conn, t *table) error {
	rows, err := c.QueryContext(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE = 'NO', coalesce(COLUMN_DEFAULT, ''),
			EXTRA, coalesce(GENERATION_EXPRESSION, ''), coalesce(CHARACTER_SET_NAME, '')
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, t.Schema, t.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col column
		var dataType, extra, gen string
		if err := rows.Scan(&col.Name, &col.Type, &dataType, &col.NotNull, &col.Default, &extra, &gen, &col.Charset); err != nil {
			return err
		}
		extra = strings.ToUpper(extra)
		switch {
		case strings.Contains(extra, "GENERATED"):
			col.Generated = gen
		case strings.Contains(extra, "AUTO_INCREMENT"):
			col.Identity = "s"
		}
		if dataType == "bit" {
			col.Read = "CAST(" + myIdent(col.Name) + " AS UNSIGNED)"
			col.Load = "CAST(%s AS UNSIGNED)"
		}
		t.Columns = append(t.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return myKey(ctx, c, t)
}

func myKey(ctx context.Context, c *sql.Conn, t *table) error {
	rows, err := c.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND INDEX_NAME = 'PRIMARY' ORDER BY SEQ_IN_INDEX`, t.Schema, t.Name)
	if err != nil {
		return err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		names = append(names, n)
	}
	if len(names) > 0 {
		t.Key = keyPositions(t.dataColumns(), names)
	}
	return rows.Err()
}

// schema is SHOW CREATE TABLE (or VIEW), as mysqldump writes it.
func (sn *mySnap) schema(ctx context.Context, t *table) (ddl []byte, err error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { sn.release(c, err != nil && ctx.Err() != nil) }()
	what := "TABLE"
	if t.View {
		what = "VIEW"
	}
	rows, err := c.QueryContext(ctx, "SHOW CREATE "+what+" "+myIdent(t.Schema, t.Name))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		return nil, fmt.Errorf("SHOW CREATE %s %s returned nothing", what, myIdent(t.Schema, t.Name))
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return append(append([]byte(nil), vals[1]...), ";\n"...), rows.Err()
}

// myIntegerKey reports whether t's key is one integer column, which is
// what split can cut by value.
func myIntegerKey(t *table) bool {
	if len(t.Key) != 1 {
		return false
	}
	typ := strings.ToLower(t.dataColumns()[t.Key[0]].Type)
	return strings.Contains(typ, "int") && !strings.Contains(typ, "point")
}

// split cuts a single integer key's [min, max] into parts equal spans;
// other keys are read in one range.
func (sn *mySnap) split(ctx context.Context, t *table, parts int) (ranges []keyRange, err error) {
	if !myIntegerKey(t) {
		return []keyRange{{}}, nil
	}
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { sn.release(c, err != nil && ctx.Err() != nil) }()
	k := myIdent(t.dataColumns()[t.Key[0]].Name)
	var lo, hi sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT MIN("+k+"), MAX("+k+") FROM "+myIdent(t.Schema, t.Name)).Scan(&lo, &hi); err != nil {
		return nil, err
	}
	if !lo.Valid || hi.Int64-lo.Int64 < int64(parts) {
		return []keyRange{{}}, nil
	}
	step := (hi.Int64 - lo.Int64) / int64(parts)
	var sample [][]string
	for i := 0; i < parts; i++ {
		sample = append(sample, []string{strconv.FormatInt(lo.Int64+int64(i)*step, 10)})
	}
	return cutRanges(sample, parts), nil
}
