package cassandra

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Differ computes a table's @diff from two stored versions alone: it
// needs no server, so the mount and the CLI use it without a connection.
type Differ struct{}

var _ sources.Differ = Differ{}

// Diff writes, in a version's layout (schema.cql, data-NNNN.cql), what
// turns the older version's rows into the newer's when replayed over
// them: the statements of the cells added or changed (write time in
// (from, to], or any that differs), and for rows and cells present in
// from and gone in to, DELETEs (collection elements: removals) with the
// newer scan's start as timestamp. The versions are compared row by row,
// by primary key, part by part; each part's deletes follow its rows.
func (Differ) Diff(ctx context.Context, from, to sources.VersionReader, w sources.Writer) error {
	schema, err := readAll(ctx, to, "schema.cql")
	if err != nil {
		return err
	}
	sf, err := parseSchema(string(schema))
	if err != nil {
		return err
	}
	mtime := to.Info().Time
	if err := w.Add(ctx, fileEntry("schema.cql", mtime, int64(len(schema))), bytes.NewReader(schema)); err != nil {
		return fmt.Errorf("diff: write schema.cql: %w", err)
	}
	d := &differ{t: sf.t, from: from, to: to, w: w, mtime: mtime}
	return d.run(ctx)
}

// differ is one Diff's state.
type differ struct {
	t        *table
	from, to sources.VersionReader
	w        sources.Writer
	mtime    time.Time
	// all is every row of from, when its parts do not line up with to's.
	all *partRows
}

func (d *differ) run(ctx context.Context) error {
	fromParts, toParts := dataParts(d.from), dataParts(d.to)
	aligned := len(fromParts) == len(toParts)
	if !aligned {
		d.all = &partRows{t: d.t, index: map[string]*drow{}, start: versionStart(d.from)}
		for _, p := range fromParts {
			pr, err := readPartRows(ctx, d.t, d.from, p)
			if err != nil {
				return err
			}
			d.all.merge(pr)
		}
	}
	for i, p := range toParts {
		old := d.all
		if aligned {
			var err error
			if old, err = readPartRows(ctx, d.t, d.from, fromParts[i]); err != nil {
				return err
			}
		}
		last := !aligned && i == len(toParts)-1
		if err := d.part(ctx, p, old, aligned || last); err != nil {
			return err
		}
	}
	return nil
}

// merge adds another part's rows.
func (pr *partRows) merge(o *partRows) {
	pr.rows = append(pr.rows, o.rows...)
	for k, r := range o.index {
		pr.index[k] = r
	}
	pr.start = o.start
}

// part writes the diff of one part of to against old; deletes says
// whether the rows of old not in to are written here.
func (d *differ) part(ctx context.Context, path string, old *partRows, deletes bool) error {
	cur, err := readPartRows(ctx, d.t, d.to, path)
	if err != nil {
		return err
	}
	var b []byte
	b = fmt.Appendf(b, "-- strata: %s @diff part %s: what changed after the scan of %s; scan start %s = %d us; TTLs are left at the scan start. Replay over the older version.\n",
		d.t.qname(), path, usTime(old.start).Format(time.RFC3339Nano), usTime(cur.start).Format(time.RFC3339Nano), cur.start)
	for _, r := range cur.rows {
		if o, ok := old.index[r.key()]; ok {
			o.seen = true
			b = d.t.rowDiff(b, o, r, cur.start)
			continue
		}
		for _, l := range r.lines {
			b = append(b, l...)
		}
	}
	if deletes {
		for _, o := range old.rows {
			if !o.seen {
				b = d.t.writeRowDelete(b, o, cur.start)
			}
		}
	}
	e := fileEntry(path, d.mtime, int64(len(b)))
	if err := d.w.Add(ctx, e, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("diff: write %s: %w", path, err)
	}
	return nil
}

func usTime(us int64) time.Time { return time.UnixMicro(us).UTC() }

// cellID is a cell's identity within its row: the column, a UDT's field,
// a set's element or a map's key (lists are compared whole).
func (t *table) cellID(c cell) string {
	col := t.cellCols()[c.Col]
	switch col.Multi {
	case "set":
		return col.Name + "\x00" + c.Value
	case "map":
		return col.Name + "\x00" + c.Key
	}
	return col.Name + "\x00" + c.Field
}

// rowDiff appends what turns row o into row r: r's cells that o lacks or
// holds with another value or write time, o's cells that r lacks as
// deletes at ts, and a changed list whole.
func (t *table) rowDiff(b []byte, o, r *drow, ts int64) []byte {
	oc, rc := t.cellMap(o.cells), t.cellMap(r.cells)
	var changed, gone []cell
	var lists []int
	for _, c := range r.cells {
		if t.cellCols()[c.Col].Multi == "list" {
			continue
		}
		if p, ok := oc[t.cellID(c)]; !ok || p.Value != c.Value || p.TS != c.TS {
			changed = append(changed, t.counterDelta(c, p, ok))
		}
	}
	for _, c := range o.cells {
		if t.cellCols()[c.Col].Multi == "list" {
			continue
		}
		if _, ok := rc[t.cellID(c)]; !ok {
			gone = append(gone, c)
		}
	}
	for i, c := range t.cellCols() {
		if c.Multi == "list" && listString(o.cells, i) != listString(r.cells, i) {
			lists = append(lists, i)
		}
	}
	if len(changed) > 0 {
		b = t.writeCells(b, r.keys, changed, false)
	}
	b = t.writeGone(b, r.keys, gone, ts)
	return t.writeLists(b, o, r, lists, ts)
}

func (t *table) cellMap(cells []cell) map[string]cell {
	m := make(map[string]cell, len(cells))
	for _, c := range cells {
		m[t.cellID(c)] = c
	}
	return m
}

// counterDelta turns a changed counter into the increment from its old
// value.
func (t *table) counterDelta(c, old cell, had bool) cell {
	if !t.Counter || !had {
		return c
	}
	a, err1 := strconv.ParseInt(old.Value, 10, 64)
	n, err2 := strconv.ParseInt(c.Value, 10, 64)
	if err1 == nil && err2 == nil {
		c.Value = strconv.FormatInt(n-a, 10)
	}
	return c
}

// listString renders a row's elements of list column i with their write
// times, to compare lists whole.
func listString(cells []cell, i int) string {
	var b []byte
	for _, c := range cells {
		if c.Col == i {
			b = fmt.Appendf(b, "%s@%d,", c.Value, c.TS)
		}
	}
	return string(b)
}
