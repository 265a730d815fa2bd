package cassandra

import (
	"sort"
	"strconv"
	"strings"
)

// A row is written as statements that cqlsh replays and that keep every
// cell's write time and TTL: per (write time, TTL) group of its cells,
//
//	INSERT INTO ks.t JSON '{"k":…,"c":…,"v":…}' DEFAULT UNSET USING TIMESTAMP 1732… AND TTL 3600;
//
// holding the keys and the group's single-cell values (DEFAULT UNSET
// leaves the row's other cells alone), and for the group's elements of
// non-frozen collections and fields of non-frozen UDTs
//
//	UPDATE ks.t USING TIMESTAMP 1732… SET s = s + fromJson('["x"]'), u.f = fromJson('1') WHERE k = fromJson('…') AND c = fromJson('…');
//
// which adds to the collection instead of replacing it, as an INSERT
// would (its tombstone would delete the elements of other groups). A
// group with no single-cell value gets a keys-only INSERT when it is the
// row's oldest, so that the row exists as INSERT made it. A row without
// cells (only its primary key) is a keys-only INSERT without timestamp.
// Static cells are written once per partition, before its rows, as
// UPDATEs with the partition key only (an INSERT would need the
// clustering columns): "SET s = fromJson('…')". Counter tables get UPDATE … SET c = c + n, the only write a
// counter takes (no timestamp: replaying twice counts twice).

// group is a row's cells of one write time and TTL.
type group struct {
	TS    int64
	TTL   int
	Cells []cell
}

// groupCells sorts cells into groups, oldest first.
func groupCells(cells []cell) []group {
	if len(cells) > 0 && sameGroup(cells) { // most rows: written at once
		return []group{{TS: cells[0].TS, TTL: cells[0].TTL, Cells: cells}}
	}
	var gs []group
	for _, c := range cells {
		i := sort.Search(len(gs), func(i int) bool {
			return gs[i].TS > c.TS || gs[i].TS == c.TS && gs[i].TTL >= c.TTL
		})
		if i == len(gs) || gs[i].TS != c.TS || gs[i].TTL != c.TTL {
			gs = append(gs, group{})
			copy(gs[i+1:], gs[i:])
			gs[i] = group{TS: c.TS, TTL: c.TTL}
		}
		gs[i].Cells = append(gs[i].Cells, c)
	}
	return gs
}

// sameGroup says every cell has the first one's write time and TTL.
func sameGroup(cells []cell) bool {
	for _, c := range cells[1:] {
		if c.TS != cells[0].TS || c.TTL != cells[0].TTL {
			return false
		}
	}
	return true
}

// keyCol is a key column and its value as JSON.
type keyCol struct {
	Name, JSON string
}

// writeRow appends the statements of one row (or of a partition's static
// cells, with the partition key only) to b.
func (t *table) writeRow(b []byte, keys []keyCol, cells []cell) []byte {
	return t.writeCells(b, keys, cells, true)
}

// writeCells appends the statements of a row's cells; marker says a
// group without single-cell values gets a keys-only INSERT when it is the
// row's oldest (a backup's rows; a diff's changes need none).
func (t *table) writeCells(b []byte, keys []keyCol, cells []cell, marker bool) []byte {
	if t.Counter {
		if len(cells) == 0 {
			return b
		}
		return t.writeCounters(b, keys, cells)
	}
	if len(cells) == 0 {
		return t.writeInsert(b, keys, nil, nil)
	}
	if len(keys) == len(t.Partition) && len(t.Clustering) > 0 {
		for _, g := range groupCells(cells) {
			b = t.writeUpdate(b, keys, g.Cells, g)
		}
		return b
	}
	cols := t.cellCols()
	for gi, g := range groupCells(cells) {
		var single, multi []cell
		for _, c := range g.Cells {
			if cols[c.Col].Multi == "" {
				single = append(single, c)
			} else {
				multi = append(multi, c)
			}
		}
		if len(single) > 0 || gi == 0 && marker {
			b = t.writeInsert(b, keys, single, &g)
		}
		if len(multi) > 0 {
			b = t.writeUpdate(b, keys, multi, g)
		}
	}
	return b
}

// writeInsert appends an INSERT JSON of the keys and single-cell values;
// g nil means no USING clause.
func (t *table) writeInsert(b []byte, keys []keyCol, cells []cell, g *group) []byte {
	cols := t.cellCols()
	b = append(b, "INSERT INTO "...)
	b = append(b, t.qname()...)
	b = append(b, " JSON '{"...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(append(appendQuoted(b, t.jsonKey(k.Name)), ':'), k.JSON)
	}
	for _, c := range cells {
		b = append(b, ',')
		b = appendQuoted(append(appendQuoted(b, t.jsonKey(cols[c.Col].Name)), ':'), c.Value)
	}
	b = append(b, "}' DEFAULT UNSET"...)
	if g != nil {
		b = appendUsing(b, g.TS, g.TTL)
	}
	return append(b, ";\n"...)
}

// writeUpdate appends an UPDATE adding a group's collection elements and
// setting its UDT fields; a list's additions get an UPDATE of their own,
// so that a loader can tell whether it already made them (list
// elements are keyed by the server, so adding them twice duplicates
// them).
func (t *table) writeUpdate(b []byte, keys []keyCol, cells []cell, g group) []byte {
	cols := t.cellCols()
	var rest []cell
	for i := 0; i < len(cells); {
		j := i
		for j < len(cells) && cells[j].Col == cells[i].Col {
			j++
		}
		if cols[cells[i].Col].Multi == "list" {
			b = t.writeAssignments(b, keys, cells[i:j], g)
		} else {
			rest = append(rest, cells[i:j]...)
		}
		i = j
	}
	if len(rest) == 0 {
		return b
	}
	return t.writeAssignments(b, keys, rest, g)
}

// writeAssignments appends one UPDATE of the cells.
func (t *table) writeAssignments(b []byte, keys []keyCol, cells []cell, g group) []byte {
	b = append(b, "UPDATE "...)
	b = append(b, t.qname()...)
	b = appendUsing(b, g.TS, g.TTL)
	b = append(b, " SET "...)
	b = t.appendAssignments(b, cells)
	b = appendWhere(b, keys)
	return append(b, ";\n"...)
}

// appendAssignments writes "s = s + fromJson('[…]'), u.f = fromJson('…')":
// one addition per collection (its elements in order), one assignment
// per UDT field and per single-cell column (static cells).
func (t *table) appendAssignments(b []byte, cells []cell) []byte {
	cols := t.cellCols()
	first := true
	for i := 0; i < len(cells); {
		if !first {
			b = append(b, ", "...)
		}
		first = false
		c := cells[i]
		col := cols[c.Col]
		name := cqlIdent(col.Name)
		if col.Multi == "udt" || col.Multi == "" {
			if col.Multi == "udt" {
				name += "." + cqlIdent(c.Field)
			}
			b = append(b, name+" = fromJson("...)
			b = appendString(b, c.Value)
			b = append(b, ')')
			i++
			continue
		}
		j := i
		for j < len(cells) && cells[j].Col == c.Col {
			j++
		}
		b = append(b, name+" = "+name+" + fromJson("...)
		b = appendString(b, collectionJSON(col.Multi, cells[i:j]))
		b = append(b, ')')
		i = j
	}
	return b
}

// collectionJSON renders elements as a JSON array, or entries as an
// object.
func collectionJSON(multi string, cells []cell) string {
	var sb strings.Builder
	open, end := byte('['), byte(']')
	if multi == "map" {
		open, end = '{', '}'
	}
	sb.WriteByte(open)
	for i, c := range cells {
		if i > 0 {
			sb.WriteByte(',')
		}
		if multi == "map" {
			sb.WriteString(c.Key)
			sb.WriteByte(':')
		}
		sb.WriteString(c.Value)
	}
	sb.WriteByte(end)
	return sb.String()
}

// writeCounters appends UPDATE … SET c = c + n for a row's counters.
func (t *table) writeCounters(b []byte, keys []keyCol, cells []cell) []byte {
	cols := t.cellCols()
	b = append(b, "UPDATE "...)
	b = append(b, t.qname()...)
	b = append(b, " SET "...)
	for i, c := range cells {
		if i > 0 {
			b = append(b, ", "...)
		}
		name := cqlIdent(cols[c.Col].Name)
		b = append(b, name+" = "+name+" + "+c.Value...)
	}
	b = appendWhere(b, keys)
	return append(b, ";\n"...)
}

func appendUsing(b []byte, ts int64, ttl int) []byte {
	b = append(b, " USING TIMESTAMP "...)
	b = strconv.AppendInt(b, ts, 10)
	if ttl > 0 {
		b = append(b, " AND TTL "...)
		b = strconv.AppendInt(b, int64(ttl), 10)
	}
	return b
}

// appendWhere writes " WHERE k = fromJson('…') AND …".
func appendWhere(b []byte, keys []keyCol) []byte {
	for i, k := range keys {
		if i == 0 {
			b = append(b, " WHERE "...)
		} else {
			b = append(b, " AND "...)
		}
		b = append(b, cqlIdent(k.Name)+" = fromJson("...)
		b = appendString(b, k.JSON)
		b = append(b, ')')
	}
	return b
}

// appendString appends s as a CQL string literal.
func appendString(b []byte, s string) []byte {
	b = append(b, '\'')
	b = appendQuoted(b, s)
	return append(b, '\'')
}

// appendQuoted appends s with its single quotes doubled, for the inside
// of a CQL string literal.
func appendQuoted(b []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i+1]...)
		b = append(b, '\'')
		s = s[i+1:]
	}
}
