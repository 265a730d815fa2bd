package relational

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/stratabackup/strata/sources"
)

// A change scan is a cheaper plan for the file a change read writes
// (changes.go). Instead of one pass over every row in key order that
// tests each row, the server runs two reads at the snapshot, on two
// connections at once: the rows that may have changed, found by one
// sequential scan of the table and sorted by key (5% of the rows after 5%
// of updates), and the key of every row in key order (an index-only scan
// of the primary key where the server finds that cheaper). The client
// walks the keys: a key the changed rows hold next is written from them,
// any other is the previous version's row, referenced in the previous
// file as the change read does; previous rows whose keys are not listed
// were deleted. Both reads sort by the same key as the full read, on the
// server, so no key is ever compared on the client beyond equality, and
// the result is byte for byte the full read's.

// changeScanner is a changeReader that can run a change scan.
type changeScanner interface {
	// changeScan returns the reads of a change scan of t at this
	// snapshot; ok is false when this snapshot cannot run it.
	changeScan(ctx context.Context, t *table, since string) (reads scanReads, ok bool, err error)
}

// scanReads are a change scan's reads, on two connections held until
// release is called: changed on the first, count and keys (one after the
// other) on the second.
type scanReads struct {
	// changed yields the rows that may have changed since (whole, in key
	// order).
	changed readFunc
	// count yields one line: the number of rows at the snapshot and the
	// sum of each key column (integer keys only), tab-separated.
	count readFunc
	// keys yields the key fields of every row (tab-separated, in key
	// order).
	keys    readFunc
	release func()
}

// errDeleted is a count merge whose row count or key sums are not the
// table's: rows were deleted, and the change scan has to read every key.
// errFewerRows is the case found before any row was merged (fewer rows
// than the previous version), when the changed rows read so far are
// still unread and serve the key read as they are.
var (
	errDeleted   = errors.New("rows were deleted since the previous version")
	errFewerRows = fmt.Errorf("%w: fewer rows than it held", errDeleted)
)

// rowsScanned writes the data file by a change scan; ok is false when the
// snapshot cannot run one (the caller then runs the change read). Like
// rowsChanged it returns errNotInPrevious, after letting the reads
// finish, when the previous file does not hold a row it should.
func (b *tableBackup) rowsScanned(ctx context.Context, t *table, path, since string) (rows, size int64, ok bool, err error) {
	cs, isCS := b.snap.(changeScanner)
	if !isCS {
		return 0, 0, false, nil
	}
	reads, ok, err := cs.changeScan(ctx, t, since)
	if !ok || err != nil {
		return 0, 0, false, err
	}
	defer reads.release()
	whole := []keyRange{{}}
	cr := readRanges(ctx, reads.changed, whole, 1, sources.Discard)
	defer func() { cr.close() }() // the one read last
	if intKey(t) {
		kr := readRanges(ctx, reads.count, whole, 1, b.w)
		rows, size, err = b.mergeScan(ctx, t, path, cr, kr, true)
		if errors.Is(err, errDeleted) || errors.Is(err, errNotInPrevious) {
			drain(kr) // its connection is then free for the keys, or the fallback
		}
		kr.close()
		switch {
		case errors.Is(err, errFewerRows):
			b.src.cfg.Logger.Debug("rows were deleted: the change scan reads every key", "table", b.obj.String())
		case errors.Is(err, errDeleted):
			// The changed rows were merged: read them again.
			b.src.cfg.Logger.Debug("rows were deleted or replaced: the change scan reads the changes and every key", "table", b.obj.String())
			drain(cr)
			cr.close()
			cr = readRanges(ctx, reads.changed, whole, 1, sources.Discard)
		case errors.Is(err, errNotInPrevious):
			drain(cr)
			return 0, 0, true, err
		default:
			return rows, size, true, err
		}
	}
	kr := readRanges(ctx, reads.keys, whole, 1, b.w)
	defer kr.close()
	rows, size, err = b.mergeScan(ctx, t, path, cr, kr, false)
	if errors.Is(err, errNotInPrevious) {
		drain(kr)
		drain(cr)
	}
	return rows, size, true, err
}

// mergeScan writes the data file from the previous one and a change
// scan's changed rows (cr), by the row count (kr yields the count line;
// integer keys) or by every key (kr yields the keys). On errNotInPrevious
// or errDeleted the reads are left as they are.
func (b *tableBackup) mergeScan(ctx context.Context, t *table, path string, cr, kr *rangeReader, count bool) (rows, size int64, err error) {
	rc, err := b.prev.(sources.PreviousReader).Open(ctx, path)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: open it: %v", errNotInPrevious, err)
	}
	defer rc.Close()
	pm := prevMerge{prev: newLineReader(rc), key: b.src.d.lineKey(t.Key)}
	sp := &spanner{}
	if count {
		prevRows := int64(-1)
		if n, err := strconv.ParseInt(b.prev.Info().Meta["rows"], 10, 64); err == nil {
			prevRows = n
		}
		m := newCountMerge(ctx, pm, cr.next, kr.next, prevRows)
		defer m.close()
		sp.next, sp.merge = m.next, m
	} else {
		m := newScanMerge(pm, cr.next)
		sp.next, sp.merge = m.keysThenCheck(kr.next), m
	}
	err = b.w.AddSpans(ctx, fileEntry(path, b.at, -1), sp.nextSpan)
	if errors.Is(err, errNotInPrevious) || errors.Is(err, errDeleted) {
		return 0, 0, err
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	b.src.cfg.Logger.Debug("table written from a change scan", "table", b.obj.String(), "by_count", count, "unchanged", sp.Reused, "changed", sp.New)
	return sp.Reused + sp.New, sp.Size, nil
}

// drain reads rr to its end, so that its connection ends its statement
// normally and stays usable.
func drain(rr *rangeReader) {
	for {
		if _, err := rr.next(); err != nil {
			return
		}
	}
}

// scanMerge resolves the key lines of a change scan: a key that the next
// changed row holds is written from that row; any other key is an
// unchanged row of the previous file, found ahead of the last one.
type scanMerge struct {
	prevMerge
	changeStream[[]byte]
}

func newScanMerge(pm prevMerge, changed func() ([]byte, error)) *scanMerge {
	m := &scanMerge{prevMerge: pm}
	m.changeStream = changeStream[[]byte]{changed: changed, keyOf: func(dst, row []byte) ([]byte, error) {
		return keyOf(dst[:0], row, m.key), nil
	}}
	return m
}

// changeStream is the stream of changed rows a merge takes, in key order,
// with the next one and its key read ahead.
type changeStream[K any] struct {
	changed func() ([]byte, error)
	keyOf   func(dst K, row []byte) (K, error)
	row     []byte // the next changed row, nil when none is waiting
	rowKey  K
	done    bool // no changed rows left
}

// peek reads the next changed row unless one is waiting or none is left.
// The row stays valid until the next call of changed.
func (c *changeStream[K]) peek() error {
	if c.row != nil || c.done {
		return nil
	}
	row, err := c.changed()
	switch {
	case errors.Is(err, io.EOF):
		c.done = true
		return nil
	case err != nil:
		return err
	}
	if c.rowKey, err = c.keyOf(c.rowKey, row); err != nil {
		return err
	}
	c.row = row
	return nil
}

// resolve implements resolver for one key line.
func (m *scanMerge) resolve(line []byte) ([]byte, prevRow, bool, error) {
	key := bytes.TrimSuffix(line, []byte{'\n'})
	if err := m.peek(); err != nil {
		return nil, prevRow{}, false, err
	}
	if m.row != nil && bytes.Equal(m.rowKey, key) {
		row := m.row
		m.row = nil
		return row, prevRow{}, false, nil
	}
	p, err := m.find(key)
	if err != nil {
		return nil, prevRow{}, false, err
	}
	return nil, p, true, nil
}

// keysThenCheck returns the key lines of next and, at their end, checks
// that every changed row was written: a changed row whose key the key
// read did not list means the two reads disagree on the order, and the
// table is read whole.
func (m *scanMerge) keysThenCheck(next func() ([]byte, error)) func() ([]byte, error) {
	return func() ([]byte, error) {
		line, err := next()
		if !errors.Is(err, io.EOF) {
			return line, err
		}
		if err := m.peek(); err != nil {
			return nil, err
		}
		if m.row != nil {
			return nil, fmt.Errorf("%w: the changed row of key %.80q is not among the keys read", errNotInPrevious, m.rowKey)
		}
		return nil, io.EOF
	}
}
