package cassandra

import (
	"strconv"
)

// writeGone appends the deletes of cells a row lost: DELETE of columns
// and UDT fields, and removals of set elements and map entries, at ts.
func (t *table) writeGone(b []byte, keys []keyCol, gone []cell, ts int64) []byte {
	cols := t.cellCols()
	var refs []colRef
	removed := map[int][]string{}
	var order []int
	for _, c := range gone {
		col := cols[c.Col]
		switch col.Multi {
		case "set", "map":
			if _, ok := removed[c.Col]; !ok {
				order = append(order, c.Col)
			}
			v := c.Value
			if col.Multi == "map" {
				v = c.Key
			}
			removed[c.Col] = append(removed[c.Col], v)
		default:
			refs = append(refs, colRef{Col: col.Name, Field: c.Field})
		}
	}
	if len(refs) > 0 {
		b = t.writeDelete(b, keys, refs, ts)
	}
	if len(order) == 0 {
		return b
	}
	b = append(b, "UPDATE "+t.qname()+" USING TIMESTAMP "...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, " SET "...)
	for i, ci := range order {
		if i > 0 {
			b = append(b, ", "...)
		}
		name := cqlIdent(cols[ci].Name)
		b = append(b, name+" = "+name+" - fromJson("...)
		b = appendString(b, collectionJSON("set", cellsOf(removed[ci])))
		b = append(b, ')')
	}
	b = appendWhere(b, keys)
	return append(b, ";\n"...)
}

func cellsOf(vals []string) []cell {
	out := make([]cell, len(vals))
	for i, v := range vals {
		out[i].Value = v
	}
	return out
}

// writeDelete appends DELETE refs FROM t USING TIMESTAMP ts WHERE keys
// (no refs: the whole row; ts 0: no USING).
func (t *table) writeDelete(b []byte, keys []keyCol, refs []colRef, ts int64) []byte {
	b = append(b, "DELETE "...)
	for i, r := range refs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, cqlIdent(r.Col)...)
		if r.Field != "" {
			b = append(b, "."+cqlIdent(r.Field)...)
		}
	}
	if len(refs) > 0 {
		b = append(b, ' ')
	}
	b = append(b, "FROM "+t.qname()...)
	if ts != 0 {
		b = append(b, " USING TIMESTAMP "...)
		b = strconv.AppendInt(b, ts, 10)
	}
	b = appendWhere(b, keys)
	return append(b, ";\n"...)
}

// writeLists appends a changed list: the elements added at its end when
// the older list is a prefix of the newer, else the list whole (all its
// elements at ts, as the newer version holds them), or its delete when
// it is gone.
func (t *table) writeLists(b []byte, o, r *drow, lists []int, ts int64) []byte {
	cols := t.cellCols()
	for _, li := range lists {
		elems, old := listCells(r.cells, li), listCells(o.cells, li)
		if len(old) > 0 && len(old) < len(elems) && samePrefix(old, elems) {
			b = t.writeCells(b, r.keys, elems[len(old):], false)
			continue
		}
		if len(elems) == 0 {
			b = t.writeDelete(b, r.keys, []colRef{{Col: cols[li].Name}}, ts)
			continue
		}
		name := cqlIdent(cols[li].Name)
		b = append(b, "UPDATE "+t.qname()+" USING TIMESTAMP "...)
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, " SET "+name+" = fromJson("...)
		b = appendString(b, collectionJSON("list", elems))
		b = append(b, ')')
		b = appendWhere(b, r.keys)
		b = append(b, ";\n"...)
	}
	return b
}

// writeRowDelete appends the delete of a row the newer version lacks: the
// row, or for a partition's static cells, those columns. A row written
// without timestamp (keys only, so replayed at the replay's time) is
// deleted without one as well, at the time of the diff's replay.
func (t *table) writeRowDelete(b []byte, o *drow, ts int64) []byte {
	if !o.static {
		if o.untimed {
			ts = 0
		}
		return t.writeDelete(b, o.keys, nil, ts)
	}
	var refs []colRef
	seen := map[string]bool{}
	for _, c := range o.cells {
		name := t.cellCols()[c.Col].Name
		if !seen[name] {
			seen[name] = true
			refs = append(refs, colRef{Col: name})
		}
	}
	if len(refs) == 0 {
		return b
	}
	return t.writeDelete(b, o.keys, refs, ts)
}

func listCells(cells []cell, col int) []cell {
	var out []cell
	for _, c := range cells {
		if c.Col == col {
			out = append(out, c)
		}
	}
	return out
}

func samePrefix(old, cur []cell) bool {
	for i, c := range old {
		if cur[i].Value != c.Value || cur[i].TS != c.TS {
			return false
		}
	}
	return true
}
