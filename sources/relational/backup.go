package relational

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Files of a version besides the data file.
const (
	schemaFile   = "schema.sql"
	deletedExt   = ".deleted"
	maxRanges    = 64
	noKeyWarning = "table has no primary key: its rows are written in the server's order and keyed by their whole content"
)

// tableBackup is the backup of one table at a snapshot.
type tableBackup struct {
	src  *Source
	snap snapshot
	obj  sources.Object
	db   string
	name tableName
	at   time.Time
	prev sources.Previous
	w    sources.Writer
	// blocks are the block sums of the file written, if it was summed.
	blocks *blockSums
}

func (b *tableBackup) run(ctx context.Context) (sources.Result, error) {
	t, err := b.snap.describe(ctx, b.name)
	if err != nil {
		return sources.Result{}, err
	}
	note, warn := b.snap.consistency()
	res := sources.Result{At: b.at, Meta: tableMeta(b.db, t)}
	res.Meta["consistency"] = note
	res.Meta["server"] = b.src.srv.redacted()
	if warn != "" {
		res.Warnings = append(res.Warnings, warn)
	}
	ddl, err := b.snap.schema(ctx, t)
	if err != nil {
		return sources.Result{}, fmt.Errorf("read the schema: %w", err)
	}
	if err := b.add(ctx, schemaFile, ddl); err != nil {
		return sources.Result{}, err
	}
	if t.View {
		return res, nil
	}
	if t.Key == nil {
		res.Warnings = append(res.Warnings, noKeyWarning)
	}
	data := dataFileName(b.src.d, t.Name)
	for _, f := range b.src.d.extras(t, data) {
		if err := b.add(ctx, f.Name, f.Data); err != nil {
			return sources.Result{}, err
		}
	}
	if cr, ok := b.snap.(changeReader); ok && t.Key != nil {
		if mark := cr.changeMark(t); mark != "" {
			res.Meta[changeMarkKey] = mark
		}
	}
	rows, size, err := b.rows(ctx, t, data)
	if err != nil {
		return sources.Result{}, err
	}
	if b.blocks != nil {
		res.Meta[blocksKey] = b.blocks.String()
	}
	res.Meta["rows"] = strconv.FormatInt(rows, 10)
	res.Meta["data_bytes"] = strconv.FormatInt(size, 10)
	return res, nil
}

// dataFileName is the data file of a table: its escaped name plus the
// dialect's extension.
func dataFileName(d dialect, table string) string {
	return sources.EscapeName(table + "." + d.ext())
}

func (b *tableBackup) add(ctx context.Context, path string, data []byte) error {
	if err := b.w.Add(ctx, fileEntry(path, b.at, int64(len(data))), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// rows writes the data file: key ranges read in parallel, rows equal to
// the previous version's referenced where it stored them.
func (b *tableBackup) rows(ctx context.Context, t *table, path string) (rows, size int64, err error) {
	ranges := []keyRange{{}}
	parts := 1
	if t.Key != nil && t.Rows > b.src.cfg.RangeRows {
		parts = min(int((t.Rows+b.src.cfg.RangeRows-1)/b.src.cfg.RangeRows), maxRanges)
	}
	if rows, size, ok, err := b.rowsByBlocks(ctx, t, path, parts); ok || err != nil {
		return rows, size, err
	}
	since, changes := b.changesSince(ctx, t, path)
	mismatch := func(err error) {
		b.src.cfg.Logger.Warn("the previous version does not match its change mark; reading every row", "table", b.obj.String(), "err", err)
	}
	if changes {
		rows, size, scanned, err := b.rowsScanned(ctx, t, path, since)
		switch {
		case errors.Is(err, errNotInPrevious):
			changes = false
			mismatch(err)
		case err != nil || scanned:
			return rows, size, err
		}
	}
	if parts > 1 {
		if ranges, err = b.snap.split(ctx, t, parts); err != nil {
			return 0, 0, fmt.Errorf("split into key ranges: %w", err)
		}
	}
	if changes {
		rows, size, err := b.rowsChanged(ctx, t, path, ranges, since)
		if !errors.Is(err, errNotInPrevious) {
			return rows, size, err
		}
		mismatch(err)
	}
	return b.rowsAll(ctx, t, path, ranges)
}

// rowsAll writes the data file from every row, rows equal to the previous
// version's referenced where it stored them.
func (b *tableBackup) rowsAll(ctx context.Context, t *table, path string, ranges []keyRange) (rows, size int64, err error) {
	read := func(ctx context.Context, r keyRange, emit func([]byte) error) error {
		return b.snap.read(ctx, t, r, emit)
	}
	// The previous file is indexed before any range is read: a server
	// whose rows wait unread longer than its write timeout (MariaDB's
	// net_write_timeout, 60 s) drops the connection, and indexing a large
	// file takes longer than that.
	ix := openIndex(ctx, b.prev, path, b.src.d.lineKey(t.Key), b.src.cfg.Logger)
	rr := readRanges(ctx, read, ranges, b.snap.workers(), b.w)
	defer rr.close()
	sp := &spanner{next: rr.next, ix: ix}
	if err := b.w.AddSpans(ctx, fileEntry(path, b.at, -1), sp.nextSpan); err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	b.src.cfg.Logger.Debug("table written", "table", b.obj.String(), "ranges", len(ranges), "unchanged", sp.Reused, "new", sp.New)
	return rr.rows, rr.size, nil
}

func fileEntry(path string, mtime time.Time, size int64) sources.Entry {
	return sources.Entry{Path: path, Type: sources.TypeFile, Mode: 0o644, ModTime: mtime, Size: size}
}

// tableMeta is what a version records of its table: enough for a Loader to
// recreate it under another name without parsing schema.sql.
func tableMeta(db string, t *table) map[string]string {
	m := map[string]string{"database": db, "schema": t.Schema, "table": t.Name, "type": "table"}
	if t.View {
		m["type"] = "view"
		m["view_definition"] = t.ViewDef
		return m
	}
	cols, _ := json.Marshal(t.Columns)
	m["columns"] = string(cols)
	if t.Key == nil {
		m["primary_key"] = ""
		m["no_primary_key"] = "true"
	} else {
		data := t.dataColumns()
		var names []string
		for _, k := range t.Key {
			names = append(names, data[k].Name)
		}
		key, _ := json.Marshal(names)
		m["primary_key"] = string(key)
	}
	if len(t.Indexes) > 0 {
		ix, _ := json.Marshal(t.Indexes)
		m["indexes"] = string(ix)
	}
	if len(t.Constraints) > 0 {
		cs, _ := json.Marshal(t.Constraints)
		m["constraints"] = string(cs)
	}
	return m
}

// layout is a version's table as its manifest describes it.
type layout struct {
	db, schema, table string
	cols              []column
	key               []string // primary key column names, nil for none
	indexes           []index
	constraints       []constraint
}

// readLayout reads a version's table layout from its metadata.
func readLayout(meta map[string]string) (*layout, error) {
	l := &layout{db: meta["database"], schema: meta["schema"], table: meta["table"]}
	if meta["type"] == "view" {
		return nil, fmt.Errorf("%s.%s is a view: run its schema.sql to recreate it", l.schema, l.table)
	}
	if l.table == "" || meta["columns"] == "" {
		return nil, fmt.Errorf("the version records no table layout (not a relational version, or a view)")
	}
	if err := json.Unmarshal([]byte(meta["columns"]), &l.cols); err != nil {
		return nil, fmt.Errorf("the version's column list: %w", err)
	}
	if k := meta["primary_key"]; k != "" {
		if err := json.Unmarshal([]byte(k), &l.key); err != nil {
			return nil, fmt.Errorf("the version's primary key: %w", err)
		}
	}
	if ix := meta["indexes"]; ix != "" {
		if err := json.Unmarshal([]byte(ix), &l.indexes); err != nil {
			return nil, fmt.Errorf("the version's indexes: %w", err)
		}
	}
	if cs := meta["constraints"]; cs != "" {
		if err := json.Unmarshal([]byte(cs), &l.constraints); err != nil {
			return nil, fmt.Errorf("the version's constraints: %w", err)
		}
	}
	return l, nil
}

// dataCols returns the names of the columns in the data file.
func (l *layout) dataCols() []string {
	var out []string
	for _, c := range l.cols {
		if c.Generated == "" {
			out = append(out, c.Name)
		}
	}
	return out
}

// keyPositions returns the key columns' positions among the data
// columns, nil without a key.
func (l *layout) keyPositions() []int {
	if l.key == nil {
		return nil
	}
	data := l.dataCols()
	var out []int
	for _, k := range l.key {
		for i, c := range data {
			if c == k {
				out = append(out, i)
			}
		}
	}
	return out
}
