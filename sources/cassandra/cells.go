package cassandra

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	var out []cell
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
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, fmt.Errorf("want a JSON array, got %.40q", s)
	}
	var out []string
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("bad JSON array %.40q: %w", s, err)
		}
		out = append(out, string(raw))
	}
	return out, closeDelim(dec, ']')
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
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("want a JSON object, got %.40q", s)
	}
	for dec.More() {
		tok, err := dec.Token()
		k, ok := tok.(string)
		if err != nil || !ok {
			return nil, nil, fmt.Errorf("bad JSON object %.40q", s)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("bad JSON object %.40q: %w", s, err)
		}
		keys = append(keys, k)
		vals = append(vals, string(raw))
	}
	return keys, vals, closeDelim(dec, '}')
}

func closeDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if tok != d {
		return fmt.Errorf("JSON: want %q, got %v", d, tok)
	}
	return nil
}
