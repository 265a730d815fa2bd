package relational

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/stratabackup/strata/sources"
)

// A second backup of a large table reads only what changed where the
// database can say so (PostgreSQL: a row version's xmin against the
// previous version's snapshot, pg_changes.go). The server sends every row
// in key order, either whole (it may have changed) or as its key alone (it
// is provably the row the previous version holds); the new file is the
// previous one with the changed and new rows spliced in and the deleted
// ones left out, all through Writer.AddSpans. Anything that cannot be
// proved unchanged is read whole; any doubt about the previous version
// falls back to the full read.

// changeMarkKey is the version metadata holding a snapshot's change mark.
const changeMarkKey = "change_mark"

// errNotInPrevious is a row the server calls unchanged that the previous
// file does not hold in key order: the previous version is not what the
// mark says (or the key order changed), and the table is read whole.
var errNotInPrevious = errors.New("a row reported unchanged is not in the previous version's file")

// changeReader is a snapshot that can tell rows changed since an earlier
// snapshot from rows that are not.
type changeReader interface {
	// changeMark is what a version of t records so that a later backup
	// can read only the rows changed since this snapshot; "" when this
	// snapshot cannot serve as such a point.
	changeMark(t *table) string
	// changedSince checks that at this snapshot the rows of t changed
	// since prevMark (recorded by an earlier backup) can be told from the
	// others; it returns the filter readChanged takes, or why not.
	changedSince(ctx context.Context, t *table, prevMark string) (since string, why string, err error)
	// readChanged reads the rows of r in key order like read, each line
	// prefixed by "t\t" when the row may have changed since, or by "f\t"
	// when it has not, and then only its key fields hold values.
	readChanged(ctx context.Context, t *table, r keyRange, since string, emit func([]byte) error) error
}

// changesSince returns the filter for reading only the rows changed since
// the previous version, or ok false (with the reason) when the table must
// be read whole.
func (b *tableBackup) changesSince(ctx context.Context, t *table, path string) (since string, ok bool) {
	cr, isCR := b.snap.(changeReader)
	pr, isPR := b.prev.(sources.PreviousReader)
	if !isCR || !isPR || t.Key == nil {
		return "", false
	}
	info := pr.Info()
	why := ""
	cur := tableMeta(b.db, t)
	switch e, found := pr.Lookup(path); {
	case info.Time.IsZero() || info.Meta[changeMarkKey] == "":
		why = "the previous version records no change mark"
	case info.Kind != b.src.d.name():
		why = "the previous version is of kind " + info.Kind
	case info.Meta["server"] != b.src.srv.redacted():
		why = "the previous version was read from another server address"
	case !found || e.Type != sources.TypeFile:
		why = "the previous version has no " + path
	case info.Meta["columns"] != cur["columns"] || info.Meta["primary_key"] != cur["primary_key"]:
		why = "the table's columns or primary key changed"
	}
	if why == "" {
		var err error
		since, why, err = cr.changedSince(ctx, t, info.Meta[changeMarkKey])
		if err != nil {
			why = err.Error()
		}
	}
	if why != "" {
		b.src.cfg.Logger.Debug("reading every row", "table", b.obj.String(), "reason", why)
		return "", false
	}
	return since, true
}

// rowsChanged writes the data file from the rows changed since the
// previous version and ranges of the previous file for the others. It
// returns errNotInPrevious (after letting the readers finish, so that
// the snapshot's connections stay usable) when the previous file does not
// hold a row the server calls unchanged.
func (b *tableBackup) rowsChanged(ctx context.Context, t *table, path string, ranges []keyRange, since string) (rows, size int64, err error) {
	cr := b.snap.(changeReader)
	rc, err := b.prev.(sources.PreviousReader).Open(ctx, path)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: open it: %v", errNotInPrevious, err)
	}
	defer rc.Close()
	read := func(ctx context.Context, r keyRange, emit func([]byte) error) error {
		return cr.readChanged(ctx, t, r, since, emit)
	}
	rr := readRanges(ctx, read, ranges, b.snap.workers(), b.w)
	defer rr.close()
	m := &prevMerge{prev: newLineReader(rc), key: b.src.d.lineKey(t.Key)}
	sp := &spanner{next: rr.next, merge: m}
	err = b.w.AddSpans(ctx, fileEntry(path, b.at, -1), sp.nextSpan)
	if errors.Is(err, errNotInPrevious) {
		drain(rr)
		return 0, 0, err
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	b.src.cfg.Logger.Debug("table written from its changes", "table", b.obj.String(), "ranges", len(ranges), "unchanged", sp.Reused, "changed", sp.New)
	return sp.Reused + sp.New, sp.Size, nil
}

// prevMerge walks the previous version's data file alongside the rows of
// a change read: both are in key order, so the previous line of an
// unchanged row lies ahead of the last one found, and the lines skipped on
// the way are rows deleted or changed since.
type prevMerge struct {
	prev *lineReader
	key  []int
	a, b []byte
}

// resolve takes one line of a change read and returns the row to write
// (changed) or where the unchanged row lies in the previous file.
func (m *prevMerge) resolve(line []byte) (row []byte, p prevRow, same bool, err error) {
	if len(line) < 3 || line[1] != '\t' || (line[0] != 't' && line[0] != 'f') {
		return nil, prevRow{}, false, fmt.Errorf("malformed line of a change read: %.40q", line)
	}
	row = line[2:]
	if line[0] == 't' {
		return row, prevRow{}, false, nil
	}
	m.a = keyOf(m.a[:0], row, m.key)
	if p, err = m.find(m.a); err != nil {
		return nil, prevRow{}, false, err
	}
	return nil, p, true, nil
}

// find returns where the previous file's row with key (its key fields
// joined by tabs) lies, reading ahead to it.
func (m *prevMerge) find(key []byte) (prevRow, error) {
	for {
		start := m.prev.off
		pl, err := m.prev.next()
		if err != nil {
			return prevRow{}, fmt.Errorf("%w (key %.80q: %v)", errNotInPrevious, key, err)
		}
		m.b = keyOf(m.b[:0], pl, m.key)
		if bytes.Equal(key, m.b) {
			return prevRow{off: start, n: int32(len(pl))}, nil
		}
	}
}
