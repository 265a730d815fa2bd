package cassandra

import (
	"fmt"
	"strconv"
	"strings"
)

// update turns an UPDATE (collection additions and removals, UDT fields,
// counter increments) into one for the target table.
func (l *load) update(st stmt) (execStmt, error) {
	q, vals, ttlAt := using(st, nil)
	var b strings.Builder
	b.WriteString("UPDATE " + l.t.qname() + q + " SET ")
	es := execStmt{ttlAt: ttlAt}
	for i, a := range st.Assign {
		if i > 0 {
			b.WriteString(", ")
		}
		col := cqlIdent(a.Col)
		switch {
		case a.Number != "":
			n, err := strconv.ParseInt(a.Number, 10, 64)
			if err != nil {
				return es, fmt.Errorf("bad counter increment %q", a.Number)
			}
			b.WriteString(col + " = " + col + " + ?")
			vals = append(vals, n)
			es.counter = true
			es.cells++
		case a.Field != "":
			b.WriteString(col + "." + cqlIdent(a.Field) + " = fromJson(?)")
			vals = append(vals, a.JSON)
			es.cells++
		case a.Op == "=":
			b.WriteString(col + " = fromJson(?)")
			vals = append(vals, a.JSON)
			es.cells += elements(a.JSON)
		default:
			b.WriteString(col + " = " + col + " " + a.Op + " fromJson(?)")
			vals = append(vals, a.JSON)
			es.cells += elements(a.JSON)
			if a.Op == "+" && len(st.Assign) == 1 && l.multi(a.Col) == "list" {
				es.list, es.ts, es.where = a.Col, st.TS, st.Where
			}
		}
	}
	var err error
	if vals, err = l.where(&b, &es, st.Where, vals); err != nil {
		return es, err
	}
	es.cql, es.vals = b.String(), vals
	return es, nil
}

// elements counts a collection's elements (1 for anything else).
func elements(js string) int {
	if strings.HasPrefix(js, "[") {
		if v, err := splitArray(js); err == nil {
			return len(v)
		}
	}
	if strings.HasPrefix(js, "{") {
		if k, _, err := splitObject(js); err == nil {
			return len(k)
		}
	}
	return 1
}

// where renders the key conditions, checking they name the target's key
// columns.
func (l *load) where(b *strings.Builder, es *execStmt, keys []keyCol, vals []interface{}) ([]interface{}, error) {
	known := map[string]bool{}
	for _, c := range l.t.keys() {
		known[c.Name] = true
	}
	for i, k := range keys {
		if !known[k.Name] {
			return nil, fmt.Errorf("WHERE names %s, not a key column of %s", k.Name, l.t.qname())
		}
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(cqlIdent(k.Name) + " = fromJson(?)")
		vals = append(vals, k.JSON)
	}
	l.keys(es, keys)
	return vals, nil
}

// delete turns a @diff's DELETE into one for the target table.
func (l *load) delete(st stmt) (execStmt, error) {
	var b strings.Builder
	b.WriteString("DELETE ")
	for i, c := range st.Cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(cqlIdent(c.Col))
		if c.Field != "" {
			b.WriteString("." + cqlIdent(c.Field))
		}
	}
	if len(st.Cols) > 0 {
		b.WriteString(" ")
	}
	q, vals, _ := using(st, nil)
	b.WriteString("FROM " + l.t.qname() + q)
	es := execStmt{ttlAt: -1, cells: len(st.Cols)}
	vals, err := l.where(&b, &es, st.Where, vals)
	es.cql, es.vals = b.String(), vals
	return es, err
}

// multi returns the Multi of a target column ("" when unknown).
func (l *load) multi(name string) string {
	for _, c := range l.t.cellCols() {
		if c.Name == name {
			return c.Multi
		}
	}
	return ""
}
