package cassandra

import (
	"fmt"
	"strconv"
	"strings"
)

// rowWriter turns rows, read in token then clustering order, into
// statements: a partition's static cells once, before its first row.
type rowWriter struct {
	t        *table
	sels     []selector
	at       int64 // scan start, microseconds: later cells are left out
	startSec int64
	last     string // the current partition: token and key JSON
	cellStats
	Rows, Partitions, Skipped int64
}

func newRowWriter(t *table, at int64) *rowWriter {
	return &rowWriter{t: t, sels: t.selectors(), at: at, startSec: at / 1e6}
}

// write appends the statements of r to b.
func (w *rowWriter) write(b []byte, r *rowVal) ([]byte, error) {
	t := w.t
	np := len(t.Partition)
	part := strconv.FormatInt(r.Token, 10) + "\x00" + strings.Join(r.Keys[:np], "\x00")
	first := part != w.last
	if first {
		w.last = part
		w.Partitions++
	}
	after := w.After
	cells, err := t.expandCells(r, w.sels, first, w.at, w.startSec, &w.cellStats)
	if err != nil {
		return b, fmt.Errorf("%s row %s: %w", t.qname(), strings.Join(r.Keys, ", "), err)
	}
	ns := 0
	for ns < len(cells) && cells[ns].Col < len(t.Static) {
		ns++
	}
	keys := make([]keyCol, len(r.Keys))
	for i, c := range t.keys() {
		keys[i] = keyCol{Name: c.Name, JSON: r.Keys[i]}
	}
	if ns > 0 {
		b = t.writeRow(b, keys[:np], cells[:ns])
	}
	if len(t.Clustering) > 0 && r.Keys[np] == "null" {
		return b, nil // a partition with static cells only
	}
	if ns == len(cells) && w.After > after {
		w.Skipped++ // every cell of the row was written after the scan's start
		return b, nil
	}
	w.Rows++
	return t.writeRow(b, keys, cells[ns:]), nil
}
