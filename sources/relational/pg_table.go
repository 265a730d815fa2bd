package relational

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// describe reads a table's columns, primary key, indexes and estimated
// size from the catalogs at the snapshot.
func (sn *pgSnap) describe(ctx context.Context, name tableName) (*table, error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer sn.release(c)
	t := &table{tableName: name, Snapshot: sn.id}
	var oid *uint32
	var kind string
	ident := pgIdent(name.Schema, name.Name)
	err = c.QueryRow(ctx, `SELECT c.oid, c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2`, name.Schema, name.Name).Scan(&oid, &kind)
	if err == pgx.ErrNoRows {
		return nil, fmt.Errorf("table %s not found in database %s (dropped since discovery, or no USAGE on schema %s)", ident, sn.db, pgx.Identifier{name.Schema}.Sanitize())
	}
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", ident, err)
	}
	t.OID = *oid
	if kind == "v" || kind == "m" {
		t.View = true
		err := c.QueryRow(ctx, `SELECT pg_get_viewdef($1::oid)`, *oid).Scan(&t.ViewDef)
		return t, err
	}
	if err := pgColumns(ctx, c, *oid, t); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", ident, err)
	}
	if err := pgKeyAndIndexes(ctx, c, *oid, t); err != nil {
		return nil, fmt.Errorf("indexes of %s: %w", ident, err)
	}
	if err := pgConstraints(ctx, c, *oid, t); err != nil {
		return nil, fmt.Errorf("constraints of %s: %w", ident, err)
	}
	return t, nil
}

// pgConstraints reads the table's CHECK and FOREIGN KEY constraints (not
// NOT NULL, key or unique ones, which columns and indexes carry).
func pgConstraints(ctx context.Context, c *pgx.Conn, oid uint32, t *table) error {
	rows, err := c.Query(ctx, `SELECT conname, contype::text, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = $1 AND contype IN ('c', 'f') ORDER BY contype, conname`, oid)
	if err != nil {
		return err
	}
	var con constraint
	_, err = pgx.ForEachRow(rows, []any{&con.Name, &con.Kind, &con.Def}, func() error {
		t.Constraints = append(t.Constraints, con)
		return nil
	})
	return err
}

func pgColumns(ctx context.Context, c *pgx.Conn, oid uint32, t *table) error {
	rows, err := c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
			coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity::text, a.attgenerated::text,
			pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(cl.relname), a.attname) IS NOT NULL
		FROM pg_attribute a
		JOIN pg_class cl ON cl.oid = a.attrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid)
	if err != nil {
		return err
	}
	var col column
	var ident, gen string
	var serial bool
	_, err = pgx.ForEachRow(rows, []any{&col.Name, &col.Type, &col.NotNull, &col.Default, &ident, &gen, &serial}, func() error {
		cc := col
		cc.Identity = ident
		if gen != "" {
			cc.Generated, cc.Default = cc.Default, ""
		}
		if serial && ident == "" {
			cc.Identity = "s"
		}
		t.Columns = append(t.Columns, cc)
		return nil
	})
	if err != nil {
		return err
	}
	return c.QueryRow(ctx, `SELECT CASE WHEN reltuples >= 0 THEN reltuples::bigint ELSE pg_relation_size(oid) / 100 END
		FROM pg_class WHERE oid = $1`, oid).Scan(&t.Rows)
}

// pgKeyAndIndexes reads the primary key (as positions among the data
// columns) and the other indexes.
func pgKeyAndIndexes(ctx context.Context, c *pgx.Conn, oid uint32, t *table) error {
	rows, err := c.Query(ctx, `SELECT ic.relname, i.indisprimary, i.indisunique, pg_get_indexdef(i.indexrelid),
			ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o)
				JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
		FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
		WHERE i.indrelid = $1 ORDER BY ic.relname`, oid)
	if err != nil {
		return err
	}
	var name, def string
	var primary, unique bool
	var cols []string
	_, err = pgx.ForEachRow(rows, []any{&name, &primary, &unique, &def, &cols}, func() error {
		if primary {
			t.Key = keyPositions(t.dataColumns(), cols)
			return nil
		}
		if i := strings.Index(def, " USING "); i >= 0 {
			t.Indexes = append(t.Indexes, index{Name: name, Unique: unique, Def: def[i+1:]})
		}
		return nil
	})
	return err
}

// keyPositions finds names among cols.
func keyPositions(cols []column, names []string) []int {
	var out []int
	for _, n := range names {
		for i, c := range cols {
			if c.Name == n {
				out = append(out, i)
			}
		}
	}
	if len(out) != len(names) {
		return nil
	}
	return out
}

// keyList is the key columns, quoted, comma-separated.
func pgKeyList(t *table) string {
	data := t.dataColumns()
	var parts []string
	for _, k := range t.Key {
		parts = append(parts, pgx.Identifier{data[k].Name}.Sanitize())
	}
	return strings.Join(parts, ", ")
}

// pgColumnList is the data columns, quoted, comma-separated.
func pgColumnList(names []string) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(parts, ", ")
}

func columnNames(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}
