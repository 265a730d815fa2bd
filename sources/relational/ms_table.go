package relational

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// describe reads a table's columns and key from the catalog views.
func (sn *msSnap) describe(ctx context.Context, name tableName) (*table, error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer sn.release(c)
	id := msIdent(name.Schema, name.Name)
	t := &table{tableName: name}
	var typ sql.NullString
	if err := c.QueryRowContext(ctx, "SELECT type FROM sys.objects WHERE object_id = OBJECT_ID(@p1)", id).Scan(&typ); err != nil || !typ.Valid {
		return nil, fmt.Errorf("table %s not found in database %s (dropped since discovery, or no VIEW DEFINITION on it): %v", id, sn.db, err)
	}
	if strings.TrimSpace(typ.String) == "V" {
		t.View = true
		err := c.QueryRowContext(ctx, "SELECT COALESCE(OBJECT_DEFINITION(OBJECT_ID(@p1)), '')", id).Scan(&t.ViewDef)
		return t, err
	}
	if err := msColumns(ctx, c, id, t); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", id, err)
	}
	return t, msKey(ctx, c, id, t)
}

func msColumns(ctx context.Context, c *sql.Conn, id string, t *table) error {
	rows, err := c.QueryContext(ctx, `SELECT c.name, TYPE_NAME(c.user_type_id), c.max_length, c.precision, c.scale, c.is_nullable,
			c.is_identity, COALESCE(c.collation_name, ''), COALESCE(OBJECT_DEFINITION(c.default_object_id), ''), COALESCE(cc.definition, '')
		FROM sys.columns c LEFT JOIN sys.computed_columns cc ON cc.object_id = c.object_id AND cc.column_id = c.column_id
		WHERE c.object_id = OBJECT_ID(@p1) ORDER BY c.column_id`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var col column
		var base string
		var maxLen, prec, scale int
		var nullable, identity bool
		if err := rows.Scan(&col.Name, &base, &maxLen, &prec, &scale, &nullable, &identity, &col.Collation, &col.Default, &col.Generated); err != nil {
			return err
		}
		col.Type, col.NotNull = msTypeSpec(base, maxLen, prec, scale), !nullable
		if identity {
			col.Identity = "s"
		}
		t.Columns = append(t.Columns, col)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.QueryRowContext(ctx, "SELECT COALESCE(SUM(rows), 0) FROM sys.partitions WHERE object_id = OBJECT_ID(@p1) AND index_id IN (0, 1)", id).Scan(&t.Rows)
}

func msKey(ctx context.Context, c *sql.Conn, id string, t *table) error {
	rows, err := c.QueryContext(ctx, `SELECT c.name FROM sys.indexes i
		JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id
		JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
		WHERE i.object_id = OBJECT_ID(@p1) AND i.is_primary_key = 1 ORDER BY ic.key_ordinal`, id)
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

// msTypeSpec spells a column type with its length, precision or scale.
func msTypeSpec(base string, maxLen, prec, scale int) string {
	switch strings.ToLower(base) {
	case "varchar", "char", "varbinary", "binary":
		if maxLen < 0 {
			return base + "(max)"
		}
		return base + "(" + strconv.Itoa(maxLen) + ")"
	case "nvarchar", "nchar":
		if maxLen < 0 {
			return base + "(max)"
		}
		return base + "(" + strconv.Itoa(maxLen/2) + ")"
	case "decimal", "numeric":
		return fmt.Sprintf("%s(%d,%d)", base, prec, scale)
	case "datetime2", "time", "datetimeoffset":
		return fmt.Sprintf("%s(%d)", base, scale)
	}
	return base
}

// msBase is a type spec's base name.
func msBase(spec string) string { b, _, _ := strings.Cut(spec, "("); return b }

// msSelectExpr reads a column as bcp's character format writes it: binary
// and CLR types as their bytes (written as hex), the rest as the server's
// text in a style that round-trips (121 for times, 3 for floats, 2 for
// money).
func msSelectExpr(c column) string {
	id := msIdent(c.Name)
	base := strings.ToLower(msBase(c.Type))
	switch base {
	case "binary", "varbinary", "image", "timestamp", "rowversion", "geometry", "geography", "hierarchyid":
		return "CAST(" + id + " AS varbinary(max))"
	case "datetime", "datetime2", "smalldatetime", "datetimeoffset", "time":
		return "CONVERT(nvarchar(max), " + id + ", 121)"
	case "float", "real":
		return "CONVERT(nvarchar(max), " + id + ", 3)"
	case "money", "smallmoney":
		return "CONVERT(nvarchar(max), " + id + ", 2)"
	}
	return "CONVERT(nvarchar(max), " + id + ")"
}
