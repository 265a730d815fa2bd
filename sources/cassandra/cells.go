package cassandra

import (
	"errors"
	"fmt"
	"strings"
)

// cell is one cell of a row as a statement writes it: a single-cell
// column's value, an element of a non-frozen set or list, an entry of a
// non-frozen map, a field of a non-frozen UDT.
type cell struct {
	Col   int    // index into table.cellCols()
	Field string // UDT field
	// Key is a map entry's key (a JSON string, as toJson writes map keys);
	// Value is the JSON value: the column's, the field's, the element's
	// or the entry's.
	Key, Value string
	TS         int64
	TTL        int
}

// cellStats counts what cell expansion kept and left out.
type cellStats struct {
	Cells, After int64
}

// expandCells turns a row's selector values into cells, leaving out
// (and counting) cells written after the scan's start (at, in
// microseconds) and turning TTLs left at read time into TTLs left at the
// scan's start (startSec). Static columns are skipped unless statics.
func (t *table) expandCells(r *rowVal, sels []selector, statics bool, at, startSec int64, st *cellStats) ([]cell, error) {
	cols := t.cellCols()
	out := make([]cell, 0, len(sels))
	shift := int(max(r.Read-startSec, 0))
	for i, s := range sels {
		if s.Col < len(t.Static) && !statics {
			continue
		}
		cv := &r.Cells[i]
		c := cols[s.Col]
		var err error
		switch {
		case t.Counter:
			if cv.JSON != "null" && cv.JSON != "" {
				out = append(out, cell{Col: s.Col, Value: cv.JSON})
			}
		case c.Multi == "set" || c.Multi == "list" || c.Multi == "map":
			out, err = appendElements(out, s.Col, c.Multi, cv, at, shift, st)
		default:
			if cv.WT == nil {
				continue
			}
			if *cv.WT > at {
				st.After++
				continue
			}
			out = append(out, cell{Col: s.Col, Field: s.Field, Value: cv.JSON, TS: *cv.WT, TTL: ttlAt(cv.TTL, shift)})
		}
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
	}
	st.Cells += int64(len(out))
	return out, nil
}

func ttlAt(ttl *int, shift int) int {
	if ttl == nil || *ttl <= 0 {
		return 0
	}
	return *ttl + shift
}

// appendElements splits a non-frozen collection's JSON into its elements
// (entries for a map), each with its own write time and TTL.
func appendElements(out []cell, col int, multi string, cv *cellVal, at int64, shift int, st *cellStats) ([]cell, error) {
	if cv.JSON == "null" || cv.JSON == "" {
		return out, nil
	}
	var keys, vals []string
	var err error
	if multi == "map" {
		keys, vals, err = splitObject(cv.JSON)
	} else {
		vals, err = splitArray(cv.JSON)
	}
	if err != nil {
		return nil, err
	}
	if len(vals) != len(cv.WTs) {
		return nil, fmt.Errorf("%d elements but %d write times (WRITETIME of a non-frozen collection needs Cassandra 5.0)", len(vals), len(cv.WTs))
	}
	for j, v := range vals {
		if cv.WTs[j] > at {
			st.After++
			continue
		}
		c := cell{Col: col, Value: v, TS: cv.WTs[j]}
		if j < len(cv.TTLs) && cv.TTLs[j] > 0 {
			c.TTL = cv.TTLs[j] + shift
		}
		if keys != nil {
			c.Key = keys[j]
		}
		out = append(out, c)
	}
	return out, nil
}

// splitArray returns a JSON array's elements as raw JSON.
func splitArray(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, fmt.Errorf("want a JSON array, got %.40q", s)
	}
	var out []string
	for i := skipSpace(s, 1); i < len(s)-1; {
		end, err := skipValue(s, i)
		if err != nil {
			return nil, fmt.Errorf("bad JSON array %.40q: %w", s, err)
		}
		out = append(out, s[i:end])
		if i, err = nextItem(s, end); err != nil {
			return nil, fmt.Errorf("bad JSON array %.40q: %w", s, err)
		}
	}
	return out, nil
}

// splitObject returns a JSON object's keys (as JSON strings) and values
// (raw JSON), in order.
func splitObject(s string) (keys, vals []string, err error) {
	names, vals, err := objectMembers(s)
	for i, n := range names {
		names[i] = jsonString(n)
	}
	return names, vals, err
}

// objectMembers returns a JSON object's keys (decoded) and values (raw
// JSON), in order.
func objectMembers(s string) (keys, vals []string, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, nil, fmt.Errorf("want a JSON object, got %.40q", s)
	}
	for i := skipSpace(s, 1); i < len(s)-1; {
		kend, err := skipValue(s, i)
		if err != nil || s[i] != '"' {
			return nil, nil, fmt.Errorf("bad JSON object key in %.40q", s)
		}
		k, ok := jsonText(s[i:kend])
		j := skipSpace(s, kend)
		if !ok || j >= len(s) || s[j] != ':' {
			return nil, nil, fmt.Errorf("bad JSON object %.40q", s)
		}
		j = skipSpace(s, j+1)
		vend, err := skipValue(s, j)
		if err != nil {
			return nil, nil, fmt.Errorf("bad JSON object %.40q: %w", s, err)
		}
		keys = append(keys, k.(string))
		vals = append(vals, s[j:vend])
		if i, err = nextItem(s, vend); err != nil {
			return nil, nil, fmt.Errorf("bad JSON object %.40q: %w", s, err)
		}
	}
	return keys, vals, nil
}

// nextItem skips the comma after an array element or object member and
// returns where the next one starts (len(s)-1 at the closing bracket).
func nextItem(s string, i int) (int, error) {
	i = skipSpace(s, i)
	switch {
	case i == len(s)-1:
		return i, nil
	case i < len(s) && s[i] == ',':
		return skipSpace(s, i+1), nil
	}
	return 0, fmt.Errorf("want ',' at offset %d", i)
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns where the JSON value starting at s[i] ends.
func skipValue(s string, i int) (int, error) {
	if i >= len(s) {
		return 0, errors.New("value missing")
	}
	switch s[i] {
	case '"':
		// Long strings are most of a row: find the quote, then look for
		// an escape before it only in what lies between.
		for j := i + 1; ; {
			k := strings.IndexByte(s[j:], '"')
			if k < 0 {
				return 0, errors.New("unterminated string")
			}
			if b := strings.IndexByte(s[j:j+k], '\\'); b >= 0 {
				j += b + 2 // past the escaped character
				if j > len(s) {
					return 0, errors.New("unterminated string")
				}
				continue
			}
			return j + k + 1, nil
		}
	case '[', '{':
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '"':
				end, err := skipValue(s, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '[', '{':
				depth++
			case ']', '}':
				if depth--; depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated array or object")
	}
	j := i
	for j < len(s) && !strings.ContainsRune(",]} \t\n\r:", rune(s[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("unexpected %q", s[i])
	}
	return j, nil
}
