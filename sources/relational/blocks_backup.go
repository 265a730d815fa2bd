package relational

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync/atomic"

	"github.com/stratabackup/strata/sources"
)

// How a backup uses block checksums (blocks.go). The first backup of a
// table (or one whose previous version records no usable sums) reads
// every row in ranges of whole blocks, hashing each row into its block
// as it goes, and records the sums. A later backup keeps the previous
// layout (extended past a grown key) and, per block on the snapshot's
// connections, asks the server for the block's rows and checksum: equal
// to the previous version's, the block is one range of the previous file;
// otherwise its rows are read and each row equal to its previous line
// (found among the previous block's bytes) is still referenced. When most
// blocks turn out changed (rows updated all over the table), checking the
// rest would cost a second pass over them on the server, so the remaining
// blocks are read without asking.

// blockSnapshot is a snapshot that can sum a table's blocks.
type blockSnapshot interface {
	// keySpan returns the smallest and largest key of t; ok is false when
	// t is not keyed by one integer column, or is empty.
	keySpan(ctx context.Context, t *table) (lo, hi int64, ok bool, err error)
	// blockSum returns the rows of r and the SHA-256 of their row hashes.
	blockSum(ctx context.Context, t *table, r keyRange) (rows int64, sum []byte, err error)
}

// checkMin and checkDirty: after checkMin blocks checked, a dirty share
// above checkDirty stops the checking.
const (
	checkMin   = 8
	checkDirty = 0.75
)

// rowsByBlocks writes the data file of a table keyed by one integer, by
// blocks; ok is false when the table is not one (read it as any other).
func (b *tableBackup) rowsByBlocks(ctx context.Context, t *table, path string, parts int) (rows, size int64, ok bool, err error) {
	bs, isBS := b.snap.(blockSnapshot)
	if !isBS || t.Key == nil {
		return 0, 0, false, nil
	}
	lo, hi, ok, err := bs.keySpan(ctx, t)
	if err != nil || !ok {
		return 0, 0, false, err
	}
	if prev := b.prevBlocks(t, path, hi); prev != nil {
		rows, size, err = b.rowsChecked(ctx, t, path, bs, prev, hi)
		return rows, size, true, err
	}
	est := t.Rows
	if est <= 0 { // no statistics yet: as if every key were used
		est = int64(min(uint64(hi-lo)+1, uint64(maxBlocks)*uint64(b.src.cfg.BlockRows)))
	}
	sums := newBlockSums(newBlockLayout(lo, hi, est, b.src.cfg.BlockRows))
	if _, size, err = b.rowsAll(ctx, t, path, sums.layout.ranges(parts, sums)); err != nil {
		return 0, 0, true, err
	}
	sums.finish()
	b.blocks = sums
	rows, _ = sums.total()
	return rows, size, true, nil
}

// prevBlocks returns the previous version's block sums when they can
// serve this backup, else nil (with the reason logged).
func (b *tableBackup) prevBlocks(t *table, path string, hi int64) *blockSums {
	pr, ok := b.prev.(sources.PreviousReader)
	if !ok {
		return nil
	}
	info := pr.Info()
	cur := tableMeta(b.db, t)
	why := ""
	var prev *blockSums
	switch e, found := pr.Lookup(path); {
	case info.Meta[blocksKey] == "":
		why = "the previous version records no block sums"
	case info.Kind != b.src.d.name():
		why = "the previous version is of kind " + info.Kind
	case info.Meta["columns"] != cur["columns"] || info.Meta["primary_key"] != cur["primary_key"]:
		why = "the table's columns or primary key changed"
	case !found || e.Type != sources.TypeFile:
		why = "the previous version has no " + path
	default:
		var err error
		if prev, err = parseBlockSums(info.Meta[blocksKey]); err != nil {
			why = err.Error()
		} else if _, size := prev.total(); size != e.Size {
			why = fmt.Sprintf("the block sums add up to %d bytes, the previous file has %d", size, e.Size)
		} else if grown := prev.grown(hi); grown.n > 2*maxBlocks {
			why = "the key grew past twice the blocks recorded"
		}
	}
	if why != "" {
		b.src.cfg.Logger.Debug("reading every row", "table", b.obj.String(), "reason", why)
		return nil
	}
	return prev
}

// grown is the layout extended so that its closed blocks reach hi.
func (s *blockSums) grown(hi int64) blockLayout {
	l := s.layout
	if d := uint64(hi) - uint64(l.base); hi >= l.base && d/uint64(l.width) >= uint64(l.n) {
		l.n = int(min(d/uint64(l.width)+1, 4*maxBlocks))
	}
	return l
}

// rowsChecked writes the data file block by block against prev.
func (b *tableBackup) rowsChecked(ctx context.Context, t *table, path string, bs blockSnapshot, prev *blockSums, hi int64) (rows, size int64, err error) {
	layout := prev.grown(hi)
	cur := newBlockSums(layout)
	offs := make([]int64, prev.layout.n+1)
	for i, x := range prev.sums {
		offs[i+1] = offs[i] + x.bytes
	}
	ranges := make([]keyRange, layout.n)
	for i := range ranges {
		ranges[i] = layout.span(i, i+1, cur)
	}
	c := &blockChecker{bs: bs, snap: b.snap, t: t, prev: prev, cur: cur, grew: layout.n > prev.layout.n}
	rc, err := b.prev.(sources.PreviousReader).Open(ctx, path)
	if err != nil {
		return 0, 0, fmt.Errorf("open the previous %s: %w", path, err)
	}
	defer rc.Close()
	rr := readRanges(ctx, c.read, ranges, b.snap.workers(), b.w)
	defer rr.close()
	m := &blockMerge{prev: prev, offs: offs, layout: layout, key: b.src.d.lineKey(t.Key)[0],
		walk: &prevWalker{r: bufio.NewReaderSize(rc, 1<<20), key: b.src.d.lineKey(t.Key)}, log: b.src.cfg.Logger}
	sp := &spanner{next: rr.next, merge: m}
	if err := b.w.AddSpans(ctx, fileEntry(path, b.at, -1), sp.nextSpan); err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", path, err)
	}
	cur.finish()
	b.blocks = cur
	rows, size = cur.total()
	b.src.cfg.Logger.Debug("table written by blocks", "table", b.obj.String(), "blocks", layout.n,
		"checked", c.checked.Load(), "changed", c.dirty.Load(), "rows_reused", sp.Reused, "rows_new", sp.New)
	return rows, size, nil
}

// blockChecker reads one block: by reference when its checksum is the
// previous one's, else its rows.
type blockChecker struct {
	bs             blockSnapshot
	snap           snapshot
	t              *table
	prev, cur      *blockSums
	grew           bool
	checked, dirty atomic.Int64
}

// blockMark starts the line that stands for an unchanged block: no line
// of a data file starts with a NUL byte (both formats escape it).
const blockMark = 0

func (c *blockChecker) read(ctx context.Context, r keyRange, emit func([]byte) error) error {
	i := r.block
	if c.comparable(i) && !c.enoughChecked() {
		rows, sum, err := c.bs.blockSum(ctx, c.t, r)
		if err != nil {
			return err
		}
		c.checked.Add(1)
		p := c.prev.sums[i]
		if rows == p.rows && (rows == 0 || bytes.Equal(sum[:len(p.sum)], p.sum[:])) {
			c.cur.set(i, p)
			if p.bytes == 0 {
				return nil
			}
			return emit(append(strconv.AppendInt([]byte{blockMark}, int64(i), 10), '\n'))
		}
		c.dirty.Add(1)
	}
	return c.snap.read(ctx, c.t, r, emit)
}

// comparable reports whether block i has a previous sum to compare with:
// it existed, was not the open last block of a layout that grew since,
// and fits a reference.
func (c *blockChecker) comparable(i int) bool {
	n := c.prev.layout.n
	return i < n && !(c.grew && i == n-1) && c.prev.sums[i].bytes < 1<<31
}

func (c *blockChecker) enoughChecked() bool {
	n := c.checked.Load()
	return n >= checkMin && float64(c.dirty.Load()) > checkDirty*float64(n)
}

// blockMerge resolves the lines of a read by blocks: a block mark is the
// previous block's bytes; a row of a changed block is looked up among the
// previous block's rows, read from the previous file as the walk reaches
// them.
type blockMerge struct {
	prev   *blockSums
	offs   []int64
	layout blockLayout
	key    int // the key's field in a line
	walk   *prevWalker
	log    *slog.Logger
	cur    int
	ix     *rowIndex
	buf    []byte
	loaded bool
}

func (m *blockMerge) resolve(line []byte) ([]byte, prevRow, bool, error) {
	if len(line) > 0 && line[0] == blockMark {
		i, err := strconv.Atoi(string(bytes.TrimSuffix(line[1:], []byte{'\n'})))
		if err != nil || i < 0 || i >= m.prev.layout.n {
			return nil, prevRow{}, false, fmt.Errorf("bad block mark %q", line)
		}
		return nil, prevRow{off: m.offs[i], n: int32(m.prev.sums[i].bytes)}, true, nil
	}
	k, err := strconv.ParseInt(string(field(bytes.TrimSuffix(line, []byte{'\n'}), m.key)), 10, 64)
	if err != nil {
		return nil, prevRow{}, false, fmt.Errorf("the key of a row: %w", err)
	}
	if i := m.layout.block(k); !m.loaded || i != m.cur {
		if err := m.load(i); err != nil {
			return nil, prevRow{}, false, err
		}
	}
	if m.ix == nil {
		return line, prevRow{}, false, nil
	}
	var p *prevRow
	var same bool
	if m.buf, p, same = m.ix.lookup(m.buf, line); !same {
		return line, prevRow{}, false, nil
	}
	return line, *p, true, nil
}

// load indexes the previous rows of block i. A previous file that cannot
// be read only costs the deduplication of the changed blocks' rows: they
// are stored anew (the unchanged blocks are referenced, not read).
func (m *blockMerge) load(i int) error {
	m.cur, m.loaded, m.ix = i, true, nil
	if m.walk.err != nil || i >= m.prev.layout.n || m.prev.sums[i].bytes == 0 {
		return nil
	}
	data, err := m.walk.read(m.offs[i], m.prev.sums[i].bytes)
	if err != nil {
		m.walk.err = err
		m.log.Warn("the previous version's rows are unreadable; storing the changed blocks' rows anew", "err", err)
		return nil
	}
	ix := newRowIndex(m.walk.key)
	if err := ix.load(context.Background(), bytes.NewReader(data), m.offs[i]); err != nil {
		return err
	}
	m.ix = ix
	return nil
}

// prevWalker reads parts of the previous file in increasing order.
type prevWalker struct {
	r   *bufio.Reader
	off int64
	buf []byte
	key []int
	err error // the first read that failed
}

func (w *prevWalker) read(off, n int64) ([]byte, error) {
	if off < w.off {
		return nil, fmt.Errorf("offset %d is behind the walk (%d)", off, w.off)
	}
	if _, err := io.CopyN(io.Discard, w.r, off-w.off); err != nil {
		return nil, err
	}
	if int64(cap(w.buf)) < n {
		w.buf = make([]byte, n)
	}
	w.buf = w.buf[:n]
	if _, err := io.ReadFull(w.r, w.buf); err != nil {
		return nil, err
	}
	w.off = off + n
	return w.buf, nil
}
