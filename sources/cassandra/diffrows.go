package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/stratabackup/strata/sources"
)

// drow is one row of a part read back for a diff: its keys, its cells
// and the lines that wrote it.
type drow struct {
	keys   []keyCol
	static bool // a partition's static cells (partition key only)
	cells  []cell
	lines  []string
	seen   bool
	// untimed says a line wrote the row without a timestamp (a row of
	// keys only): its delete cannot name a timestamp either.
	untimed bool
}

// key is the row's identity within the table.
func (r *drow) key() string {
	var b strings.Builder
	if r.static {
		b.WriteString("S")
	}
	for _, k := range r.keys {
		b.WriteString(k.JSON)
		b.WriteByte(0)
	}
	return b.String()
}

// partRows reads a part's rows in order; lines of one row are adjacent.
type partRows struct {
	t     *table
	rows  []*drow
	index map[string]*drow
	start int64 // scan start, microseconds, from the header
}

// readPartRows reads a version's part (none: an empty set of rows).
func readPartRows(ctx context.Context, t *table, v sources.VersionReader, path string) (*partRows, error) {
	pr := &partRows{t: t, index: map[string]*drow{}, start: versionStart(v)}
	if path == "" {
		return pr, nil
	}
	rc, err := v.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	lr := newLineReader(rc)
	for n := 1; ; n++ {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return pr, nil
		}
		if err != nil {
			return nil, errLine(path, err)
		}
		if err := pr.addLine(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
}

// addLine adds a statement to its row (the last one, or a new one).
func (pr *partRows) addLine(line []byte) error {
	if isComment(line) {
		if s, ok := scanStart(line); ok {
			pr.start = s
		}
		return nil
	}
	st, err := parseStmt(string(line))
	if err != nil {
		return err
	}
	r, cells, err := pr.t.stmtRow(st)
	if err != nil {
		return err
	}
	k := r.key()
	if last := pr.last(); last != nil && last.key() == k {
		r = last
	} else {
		pr.rows = append(pr.rows, r)
		pr.index[k] = r
	}
	r.cells = append(r.cells, cells...)
	r.lines = append(r.lines, string(line))
	r.untimed = r.untimed || !st.HasTS
	return nil
}

func (pr *partRows) last() *drow {
	if len(pr.rows) == 0 {
		return nil
	}
	return pr.rows[len(pr.rows)-1]
}

// stmtRow returns the row a statement writes and its cells.
func (t *table) stmtRow(st stmt) (*drow, []cell, error) {
	r := &drow{}
	var cells []cell
	var err error
	switch st.Verb {
	case "INSERT":
		cells, err = t.insertCells(st, r)
	case "UPDATE":
		r.keys = st.Where
		cells, err = t.updateCells(st)
	default:
		return nil, nil, fmt.Errorf("a version holds no DELETE")
	}
	r.static = len(r.keys) == len(t.Partition) && len(t.Clustering) > 0
	return r, cells, err
}

// colIndex finds a column among cellCols.
func (t *table) colIndex(name string) (int, error) {
	for i, c := range t.cellCols() {
		if c.Name == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("column %s is not in schema.cql's table", name)
}

func (t *table) insertCells(st stmt, r *drow) ([]cell, error) {
	keys, vals, err := objectMembers(st.JSON)
	if err != nil {
		return nil, err
	}
	isKey := map[string]bool{}
	for _, c := range t.keys() {
		isKey[c.Name] = true
	}
	var cells []cell
	for i, k := range keys {
		name := identName(k)
		if isKey[name] {
			r.keys = append(r.keys, keyCol{Name: name, JSON: vals[i]})
			continue
		}
		idx, err := t.colIndex(name)
		if err != nil {
			return nil, err
		}
		cells = append(cells, cell{Col: idx, Value: vals[i], TS: st.TS, TTL: st.TTL})
	}
	return cells, nil
}

// identName is the column a JSON key of INSERT JSON names: a quoted
// identifier keeps its case, a plain one folds to lower case.
func identName(k string) string {
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		return unquoteIdent(k)
	}
	return strings.ToLower(k)
}

func (t *table) updateCells(st stmt) ([]cell, error) {
	var cells []cell
	for _, a := range st.Assign {
		idx, err := t.colIndex(a.Col)
		if err != nil {
			return nil, err
		}
		c := cell{Col: idx, Field: a.Field, TS: st.TS, TTL: st.TTL}
		col := t.cellCols()[idx]
		switch {
		case a.Number != "":
			c.Value = a.Number
			cells = append(cells, c)
		case a.Op != "+":
			c.Value = a.JSON
			cells = append(cells, c)
		case col.Multi == "map":
			ks, vs, err := splitObject(a.JSON)
			if err != nil {
				return nil, err
			}
			for i := range ks {
				c.Key, c.Value = ks[i], vs[i]
				cells = append(cells, c)
			}
		default:
			vs, err := splitArray(a.JSON)
			if err != nil {
				return nil, err
			}
			for _, v := range vs {
				c.Value = v
				cells = append(cells, c)
			}
		}
	}
	return cells, nil
}
