package cassandra

import (
	"strings"
)

// selector is one thing a range read selects for a cell: a column (or a
// non-frozen UDT's field) as JSON with its write time and TTL.
type selector struct {
	Col   int    // index into table.cells()
	Field string // a non-frozen UDT's field, "" otherwise
}

// cellCols are the columns that hold cells: statics, then regulars. The
// slice is shared: read it, do not change its elements.
func (t *table) cellCols() []column { return t.cols().cells }

// selectors lists what a row read selects besides token and keys: one
// per single-cell column or collection, one per field of a non-frozen UDT.
func (t *table) selectors() []selector {
	var out []selector
	for i, c := range t.cellCols() {
		if c.Multi == "udt" {
			for _, f := range c.Fields {
				out = append(out, selector{Col: i, Field: f})
			}
			continue
		}
		out = append(out, selector{Col: i})
	}
	return out
}

// selectCQL is the range read: token, every key column and every cell
// as JSON (so that the server renders each type as INSERT JSON takes it),
// with WRITETIME and TTL per cell (lists of them for a non-frozen
// collection, Cassandra 5.0's per-element form); counters, which have
// neither, as JSON only. Rows come in token then clustering order.
func (t *table) selectCQL() string {
	var b strings.Builder
	pk := make([]string, len(t.Partition))
	for i, c := range t.Partition {
		pk[i] = cqlIdent(c.Name)
	}
	b.WriteString("SELECT token(" + strings.Join(pk, ", ") + ")")
	for _, c := range t.keys() {
		b.WriteString(", " + valueSel(cqlIdent(c.Name), c.Type))
	}
	cols := t.cellCols()
	for _, s := range t.selectors() {
		ref := cqlIdent(cols[s.Col].Name)
		typ := t.selType(s)
		if s.Field != "" {
			ref += "." + cqlIdent(s.Field)
		}
		b.WriteString(", " + valueSel(ref, typ))
		if !t.Counter {
			b.WriteString(", writetime(" + ref + "), ttl(" + ref + ")")
		}
	}
	b.WriteString(" FROM " + t.qname())
	b.WriteString(" WHERE token(" + strings.Join(pk, ", ") + ") > ? AND token(" + strings.Join(pk, ", ") + ") <= ?")
	return b.String()
}

// valueSel selects a value natively or as toJson.
func valueSel(ref, typ string) string {
	if nativeType(typ) {
		return ref
	}
	return "toJson(" + ref + ")"
}

// selType is the type a selector reads: the column's ("" for a field of
// a non-frozen UDT, read with toJson).
func (t *table) selType(s selector) string {
	if s.Field != "" {
		return ""
	}
	return t.cellCols()[s.Col].Type
}

// rowVal is one row as read: its token, the keys as JSON, and per
// selector the cell's JSON, write time(s) and TTL(s).
type rowVal struct {
	Token int64
	Keys  []string
	Cells []cellVal
	// Read is when the row's page was read (unix seconds), to turn the
	// TTLs left then into TTLs left at the scan's start.
	Read int64
}

// cellVal is what one selector read.
type cellVal struct {
	JSON string
	WT   *int64 // single cell: write time, nil when null
	TTL  *int   // single cell: TTL left, nil or 0 when none
	WTs  []int64
	TTLs []int
}

// scanDest holds a row read's destinations, reused from row to row.
type scanDest struct {
	token int64
	keys  []string
	cells []cellVal
	multi []bool
	dest  []interface{}
	// native are the destinations of natively read values (nil for
	// toJson ones): keys first, then the selectors.
	native []interface{}
}

func newScanDest(t *table) *scanDest {
	sels := t.selectors()
	cols := t.cellCols()
	d := &scanDest{keys: make([]string, len(t.keys())), cells: make([]cellVal, len(sels)), multi: make([]bool, len(sels))}
	d.dest = append(d.dest, &d.token)
	for i, c := range t.keys() {
		d.dest = append(d.dest, d.valueDest(&d.keys[i], c.Type))
	}
	for i, s := range sels {
		c := &d.cells[i]
		d.dest = append(d.dest, d.valueDest(&c.JSON, t.selType(s)))
		if t.Counter {
			continue
		}
		d.multi[i] = cols[s.Col].Multi != "" && cols[s.Col].Multi != "udt"
		if d.multi[i] {
			d.dest = append(d.dest, &c.WTs, &c.TTLs)
		} else {
			d.dest = append(d.dest, &c.WT, &c.TTL)
		}
	}
	return d
}

// valueDest is where a value is scanned: a native destination (noted,
// rendered into js by row) or js itself for toJson's text.
func (d *scanDest) valueDest(js *string, typ string) interface{} {
	if !nativeType(typ) {
		d.native = append(d.native, nil)
		return js
	}
	n := nativeDest(typ)
	d.native = append(d.native, n)
	return n
}

// row copies the scanned values into a rowVal of their own.
func (d *scanDest) row(read int64) rowVal {
	for i, n := range d.native {
		if n == nil {
			continue
		}
		if i < len(d.keys) {
			d.keys[i] = nativeJSON(n)
		} else {
			d.cells[i-len(d.keys)].JSON = nativeJSON(n)
		}
	}
	r := rowVal{Token: d.token, Keys: append([]string(nil), d.keys...), Cells: make([]cellVal, len(d.cells)), Read: read}
	for i, c := range d.cells {
		r.Cells[i] = c
		d.cells[i] = cellVal{}
	}
	return r
}
