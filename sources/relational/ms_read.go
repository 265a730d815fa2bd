package relational

import (
	"context"
	"fmt"
	"strings"
)

// read selects the table in key order and writes bcp character rows.
func (sn *msSnap) read(ctx context.Context, t *table, _ keyRange, emit func([]byte) error) error {
	c, err := sn.acquire(ctx)
	if err != nil {
		return err
	}
	defer sn.release(c)
	data := t.dataColumns()
	sel, kinds := make([]string, len(data)), make([]bcpKind, len(data))
	for i, col := range data {
		sel[i] = msSelectExpr(col)
		if kinds[i], _, err = bcpType(msBase(col.Type)); err != nil {
			return fmt.Errorf("column %s: %w", col.Name, err)
		}
		if strings.HasPrefix(sel[i], "CAST(") {
			kinds[i] = bcpBinary
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + msIdent(t.Schema, t.Name)
	if t.Key != nil {
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = msIdent(data[k].Name)
		}
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("select from %s: %w", msIdent(t.Schema, t.Name), err)
	}
	defer rows.Close()
	vals, ptrs := make([]any, len(data)), make([]any, len(data))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	raw := make([][]byte, len(data))
	var line []byte
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		msRaw(raw, vals)
		if line, err = bcpRow(line[:0], kinds, raw); err != nil {
			return fmt.Errorf("%s: %w", msIdent(t.Schema, t.Name), err)
		}
		if err := emit(line); err != nil {
			return err
		}
	}
	return rows.Err()
}

// msRaw turns scanned values into bytes: nil stays nil (NULL).
func msRaw(raw [][]byte, vals []any) {
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			raw[i] = nil
		case []byte:
			raw[i] = x
		case string:
			raw[i] = []byte(x)
		default:
			raw[i] = []byte(fmt.Sprint(x))
		}
	}
}

// schema is generated from the catalog views: SQL Server has no
// command-line tool here that scripts a table.
func (sn *msSnap) schema(_ context.Context, t *table) ([]byte, error) {
	if t.View {
		return []byte(t.ViewDef + "\nGO\n"), nil
	}
	var defs []string
	for _, c := range t.Columns {
		d := msIdent(c.Name) + " "
		switch {
		case c.Generated != "":
			d += "AS " + c.Generated
		default:
			d += c.Type
			if c.Identity != "" {
				d += " IDENTITY(1,1)"
			}
			if c.Default != "" {
				d += " DEFAULT " + c.Default
			}
			if c.NotNull {
				d += " NOT NULL"
			} else {
				d += " NULL"
			}
		}
		defs = append(defs, d)
	}
	if t.Key != nil {
		data := t.dataColumns()
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = msIdent(data[k].Name)
		}
		defs = append(defs, "PRIMARY KEY ("+strings.Join(keys, ", ")+")")
	}
	return []byte("CREATE TABLE " + msIdent(t.Schema, t.Name) + " (\n    " + strings.Join(defs, ",\n    ") + "\n);\nGO\n"), nil
}

// extras is the format file <table>.fmt for `bcp t in <table>.bcp -f
// <table>.fmt -C 65001 -k` (identity values kept with -E).
func (msDialect) extras(t *table, dataFile string) []file {
	if t.View {
		return nil
	}
	var cols []bcpColumn
	for _, c := range t.dataColumns() {
		cols = append(cols, bcpColumn{Name: c.Name, Type: msBase(c.Type), Collation: c.Collation})
	}
	f, err := bcpFormat(cols)
	if err != nil {
		return nil // read fails on the same column, naming it
	}
	return []file{{Name: strings.TrimSuffix(dataFile, ".bcp") + ".fmt", Data: []byte(f)}}
}
