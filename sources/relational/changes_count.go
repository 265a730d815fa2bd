package relational

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"math/bits"
	"strconv"
)

// A change scan by count leaves out the key read, the dearer of its two
// reads (on the 1 GiB bench table after 5% of updates, server CPU without
// parallel workers: 5.6-6.8 s for every key in key order, 1.6 s for the
// count and key sum by a sequential scan, 2.6-3.3 s for the changed rows;
// the change read's one ordered pass took 10-11 s). Where the key is made of integers, the
// client orders rows exactly as the server does, so it can merge the
// previous file and the changed rows (both in key order) by comparing
// keys: a changed row replaces the previous row of its key, or goes
// between the previous rows around it. Every row the server calls
// unchanged is a row of the previous file (the xmin rule), so the merge
// holds every current row, plus any previous row deleted since; the
// table's row count at the snapshot says whether there was one
// (errDeleted: the scan then reads every key). The sum of each key column
// is compared too: a previous file that does not hold what its mark says
// (a row of another key in place of an unchanged one, which the count
// alone would not see) is read again by the key read, which finds it out.

// intTypes are the PostgreSQL types (format_type) whose COPY text is a
// plain decimal integer ordered as its value.
var intTypes = map[string]bool{"smallint": true, "integer": true, "bigint": true}

// intKey reports whether every column of t's primary key is an integer.
func intKey(t *table) bool {
	if len(t.Key) == 0 {
		return false
	}
	data := t.dataColumns()
	for _, k := range t.Key {
		if !intTypes[data[k].Type] {
			return false
		}
	}
	return true
}

// countMerge merges the previous file with the changed rows of a change
// scan by count. It is both the spanner's line source (next) and its
// resolver: next decides which row comes next, resolve hands it over.
type countMerge struct {
	prevMerge
	changeStream[[]int64]
	count func() ([]byte, error)
	// prevRows is the previous version's row count, -1 when unknown: a
	// table now smaller has lost rows, and the merge stops at once.
	prevRows int64

	ahead    *keysAhead // the previous file's keys, read ahead
	pl       bool       // a previous row is waiting
	plOff    int64
	plLen    int32
	plKey    []int64
	prevDone bool
	total    int64      // rows at the snapshot
	sums     []*big.Int // of each key column at the snapshot
	got      []sum128   // of each key column of the rows merged

	outRow  []byte
	outPrev prevRow
	outSame bool
	written int64
}

// newCountMerge starts reading the previous file's keys at once (while
// the server scans); close ends that.
func newCountMerge(ctx context.Context, pm prevMerge, changed, count func() ([]byte, error), prevRows int64) *countMerge {
	m := &countMerge{prevMerge: pm, count: count, prevRows: prevRows, ahead: startKeysAhead(ctx, pm.prev, pm.key)}
	m.changeStream = changeStream[[]int64]{changed: changed, keyOf: func(dst []int64, row []byte) ([]int64, error) {
		return intKeyOf(dst[:0], row, m.key)
	}}
	return m
}

// next returns the next row of the new file (resolve says where it comes
// from), io.EOF at the end, or errDeleted.
func (m *countMerge) next() ([]byte, error) {
	if err := m.fill(); err != nil {
		return nil, err
	}
	switch {
	case m.row == nil && !m.pl:
		return nil, m.check()
	case !m.pl || (m.row != nil && cmpKeys(m.rowKey, m.plKey) <= 0):
		if m.pl && cmpKeys(m.rowKey, m.plKey) == 0 {
			m.pl = false // replaced by the changed row
		}
		m.outRow, m.outSame = m.row, false
		m.row = nil
		m.add(m.rowKey)
	default:
		// The spanner takes a previous row by where it lies; the line
		// handed out only has to be non-nil.
		m.outRow, m.outPrev, m.outSame = unchangedLine, prevRow{off: m.plOff, n: m.plLen}, true
		m.pl = false
		m.add(m.plKey)
	}
	return m.outRow, nil
}

// resolve implements resolver: the row next chose.
func (m *countMerge) resolve([]byte) ([]byte, prevRow, bool, error) {
	if m.outSame {
		return nil, m.outPrev, true, nil
	}
	return m.outRow, prevRow{}, false, nil
}

// fill reads the row count once and the next changed and previous rows.
func (m *countMerge) fill() error {
	if m.sums == nil { // the count line, read once
		line, err := m.count()
		if err != nil {
			return err
		}
		if err := m.parseCount(line); err != nil {
			return err
		}
		if m.prevRows >= 0 && m.total < m.prevRows {
			return fmt.Errorf("%w (%d rows, %d before)", errFewerRows, m.total, m.prevRows)
		}
	}
	if err := m.peek(); err != nil {
		return err
	}
	if !m.pl && !m.prevDone {
		return m.fillPrev()
	}
	return nil
}

// parseCount reads the count line: rows, then each key column's sum (\N
// for an empty table).
func (m *countMerge) parseCount(line []byte) error {
	f := bytes.Split(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\t'})
	n, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil || len(f) != len(m.key)+1 {
		return fmt.Errorf("read the row count: %.80q", line)
	}
	m.total, m.sums, m.got = n, make([]*big.Int, len(m.key)), make([]sum128, len(m.key))
	for i, v := range f[1:] {
		m.sums[i] = new(big.Int)
		if string(v) == `\N` && n == 0 {
			continue
		}
		if _, ok := m.sums[i].SetString(string(v), 10); !ok {
			return fmt.Errorf("read the key sums: %.80q", line)
		}
	}
	return nil
}

// add counts a row merged.
func (m *countMerge) add(key []int64) {
	m.written++
	for i, v := range key {
		m.got[i].add(v)
	}
}

// check compares what was merged with the table at the snapshot.
func (m *countMerge) check() error {
	if m.written != m.total {
		return fmt.Errorf("%w (%d rows merged, %d in the table)", errDeleted, m.written, m.total)
	}
	for i, want := range m.sums {
		if m.got[i].big().Cmp(want) != 0 {
			return fmt.Errorf("%w (the sum of key column %d is %s, %s in the table)", errDeleted, i+1, m.got[i].big(), want)
		}
	}
	return io.EOF
}

// sum128 is a 128-bit two's complement sum of int64s: no sum of a table's
// keys overflows it.
type sum128 struct {
	hi int64
	lo uint64
}

func (s *sum128) add(v int64) {
	var carry uint64
	s.lo, carry = bits.Add64(s.lo, uint64(v), 0)
	s.hi += int64(carry) + v>>63
}

func (s sum128) big() *big.Int {
	b := new(big.Int).Lsh(big.NewInt(s.hi), 64)
	return b.Add(b, new(big.Int).SetUint64(s.lo))
}

// unchangedLine is what next hands out for a row of the previous file.
var unchangedLine = []byte{}

// close stops the read-ahead of the previous file.
func (m *countMerge) close() { m.ahead.close() }

// fillPrev takes the next row of the previous file, which must be in key
// order (keysAhead checks it).
func (m *countMerge) fillPrev() error {
	key, off, n, err := m.ahead.next(m.plKey)
	m.plKey = key
	if errors.Is(err, io.EOF) {
		m.prevDone = true
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errNotInPrevious, err)
	}
	m.pl, m.plOff, m.plLen = true, off, n
	return nil
}

// intKeyOf parses the integer key fields of a line.
func intKeyOf(dst []int64, line []byte, key []int) ([]int64, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	for _, k := range key {
		f := field(line, k)
		n, ok := parseInt(f)
		if !ok {
			return nil, fmt.Errorf("key field %q is not an integer", f)
		}
		dst = append(dst, n)
	}
	return dst, nil
}

// parseInt parses a decimal int64 without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n <= 1<<63:
		return -int64(n-1) - 1, true
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

// cmpKeys compares two integer keys column by column.
func cmpKeys(a, b []int64) int {
	for i := range a {
		switch {
		case a[i] < b[i]:
			return -1
		case a[i] > b[i]:
			return 1
		}
	}
	return 0
}
