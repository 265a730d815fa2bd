package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gocql/gocql"
	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/sources"
)

// Batches hold one partition's consecutive statements, up to these bounds
// (Cassandra warns above 5 KiB per batch and fails at 50 KiB by default).
const (
	batchStmts = 64
	batchBytes = 24 << 10
)

// execStmt is a statement ready for the target: CQL with bind markers
// and its values.
type execStmt struct {
	cql     string
	vals    []interface{}
	part    string // partition key, to group batches
	row     string // primary key, to count rows
	fullKey bool   // the statement names a row, not a partition's statics
	cells   int
	size    int
	counter bool
	ttlAt   int    // index of the TTL in vals, -1 when none
	loc     string // file:line, for errors
	// list is the list column a statement adds elements to, written only
	// if the target's list has no element of the statement's write time
	// yet (so that a rerun does not add them twice).
	list  string
	ts    int64
	where []keyCol
	// json is an INSERT's row object when it goes to the bulk path
	// (bulkInsert), with its write time in ts and its TTL in vals[ttlAt].
	json string
}

// batch is what one request writes.
type batch []execStmt

// data loads every part, batches of each running on l.workers at once.
func (l *load) data(ctx context.Context, v sources.VersionReader) error {
	if l.workers <= 0 {
		l.workers = 32
	}
	g, gctx := errgroup.WithContext(ctx)
	ch := make(chan batch, l.workers)
	var counts loadCounts
	for range l.workers {
		g.Go(func() error {
			for b := range ch {
				if err := l.exec(gctx, b); err != nil {
					return err
				}
				counts.batches.Add(1)
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(ch)
		for _, path := range dataParts(v) {
			if err := l.readPart(gctx, v, path, ch, &counts); err != nil {
				return err
			}
		}
		return nil
	})
	err := g.Wait()
	counts.into(l.stats)
	if l.bulk != nil {
		if err != nil {
			l.bulk.abort()
			return err
		}
		l.stats.SSTables, err = l.bulk.finish()
	}
	return err
}

// loadCounts are a load's counters, shared by its goroutines.
type loadCounts struct {
	stmts, rows, cells, expired, deletes, batches atomic.Int64
}

func (c *loadCounts) into(st *LoadStats) {
	st.Statements, st.Rows, st.Cells = c.stmts.Load(), c.rows.Load(), c.cells.Load()
	st.Expired, st.Deletes, st.Batches = c.expired.Load(), c.deletes.Load(), c.batches.Load()
}

// readPart parses one part and sends its statements, batched by
// partition.
func (l *load) readPart(ctx context.Context, v sources.VersionReader, path string, ch chan<- batch, c *loadCounts) error {
	rc, err := v.Open(ctx, path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer rc.Close()
	lr := newLineReader(rc)
	start := l.start
	var cur batch
	lastRow := ""
	for n := 1; ; n++ {
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errLine(path, err)
		}
		if isComment(line) {
			if s, ok := scanStart(line); ok {
				start = s
			}
			continue
		}
		es, skip, err := l.prepare(string(line), start, c)
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
		if skip {
			continue
		}
		es.loc = fmt.Sprintf("%s:%d", path, n)
		if es.row != lastRow && es.fullKey {
			c.rows.Add(1)
			lastRow = es.row
		}
		if es.json != "" { // bulkInsert's: to the SSTable writer
			if err := l.bulk.add(es.ts, es.vals[es.ttlAt].(int), es.json); err != nil {
				return err
			}
			continue
		}
		if len(cur) > 0 && (cur[0].part != es.part || len(cur) >= batchStmts || cur.size()+es.size > batchBytes || cur[0].counter != es.counter) {
			if err := send(ctx, ch, cur); err != nil {
				return err
			}
			cur = nil
		}
		cur = append(cur, es)
	}
	if len(cur) > 0 {
		return send(ctx, ch, cur)
	}
	return nil
}

func (b batch) size() int {
	n := 0
	for _, s := range b {
		n += s.size
	}
	return n
}

func send(ctx context.Context, ch chan<- batch, b batch) error {
	select {
	case ch <- b:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prepare turns a statement line into an execStmt for the target table,
// with the TTL it has left; skip says every cell of it has expired.
func (l *load) prepare(line string, startUS int64, c *loadCounts) (execStmt, bool, error) {
	st, err := parseStmt(line)
	if err != nil {
		return execStmt{}, false, err
	}
	var es execStmt
	switch st.Verb {
	case "INSERT":
		es, err = l.insert(st)
	case "UPDATE":
		es, err = l.update(st)
	default:
		es, err = l.delete(st)
		c.deletes.Add(1)
	}
	if err != nil {
		return es, false, err
	}
	if st.TTL > 0 {
		left := st.TTL - int(time.Now().Unix()-startUS/1e6)
		if left <= 0 {
			c.expired.Add(int64(es.cells))
			return es, true, nil
		}
		es.vals[es.ttlAt] = left
	}
	c.stmts.Add(1)
	c.cells.Add(int64(es.cells))
	es.size = len(line)
	return es, false, nil
}

// using renders the USING clause of a statement with a timestamp and
// appends its values; ttlAt is where the TTL is bound, -1 for none.
func using(st stmt, vals []interface{}) (q string, out []interface{}, ttlAt int) {
	switch {
	case !st.HasTS:
		return "", vals, -1
	case st.Verb == "DELETE":
		return " USING TIMESTAMP ?", append(vals, st.TS), -1
	}
	return " USING TIMESTAMP ? AND TTL ?", append(vals, st.TS, st.TTL), len(vals) + 1
}

// insert turns INSERT JSON into an INSERT of the same columns, values of
// common types bound natively and the others through fromJson: the same
// cells, and no JSON object for the server to parse.
func (l *load) insert(st stmt) (execStmt, error) {
	names, vals, err := objectMembers(st.JSON)
	if err != nil {
		return execStmt{}, err
	}
	if l.bulk != nil && st.HasTS {
		return l.bulkInsert(st, names, vals), nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO " + l.t.qname() + " (")
	marks := make([]string, len(names))
	args := make([]interface{}, len(names))
	for i, k := range names {
		name := identName(k)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(cqlIdent(name))
		if v, ok := bindValue(l.types[name], vals[i]); ok {
			marks[i], args[i] = "?", v
		} else {
			marks[i], args[i] = "fromJson(?)", vals[i]
		}
	}
	b.WriteString(") VALUES (" + strings.Join(marks, ", ") + ")")
	kc := l.rowKeys(names, vals)
	q, args, ttlAt := using(st, args)
	es := execStmt{cql: b.String() + q, vals: args, ttlAt: ttlAt, cells: len(names) - len(kc)}
	l.keys(&es, kc)
	return es, nil
}

// bulkInsert is insert for the bulk path, which sends the JSON object as
// it is: only the keys (to count rows) and the TTL's place are needed.
// The TTL sits where prepare puts the TTL left (vals[ttlAt]).
func (l *load) bulkInsert(st stmt, names, vals []string) execStmt {
	kc := l.rowKeys(names, vals)
	es := execStmt{json: st.JSON, ts: st.TS, vals: []interface{}{st.TTL}, ttlAt: 0, cells: len(names) - len(kc)}
	l.keys(&es, kc)
	return es
}

// rowKeys are the primary key columns a statement's JSON object names,
// in key order, with their values.
func (l *load) rowKeys(names, vals []string) []keyCol {
	var kc []keyCol
	for _, c := range l.t.keys() {
		for i, k := range names {
			if identName(k) == c.Name {
				kc = append(kc, keyCol{Name: c.Name, JSON: vals[i]})
				break
			}
		}
	}
	return kc
}

// keys sets a statement's partition and row keys.
func (l *load) keys(es *execStmt, kc []keyCol) {
	np := len(l.t.Partition)
	var b strings.Builder
	for i, k := range kc {
		if i == np {
			es.part = b.String()
		}
		b.WriteString(k.JSON)
		b.WriteByte(0)
	}
	if es.part == "" {
		es.part = b.String()
	}
	es.row = b.String()
	es.fullKey = len(kc) == len(l.t.Partition)+len(l.t.Clustering)
}

// exec writes one batch, retrying a few times when the cluster is
// briefly unavailable or a write timed out (an overloaded node). Writes
// carry their write time, so writing them again is harmless, except for
// counters: a counter batch that timed out may have been applied.
func (l *load) exec(ctx context.Context, b batch) error {
	var err error
	for try := 0; try < 8; try++ {
		if err = l.execOnce(ctx, b); err == nil || !(isUnavailable(err) || (isWriteTimeout(err) && !b[0].counter)) {
			break
		}
		if serr := sleep(ctx, time.Duration(try+1)*time.Second); serr != nil {
			return serr
		}
	}
	if err != nil {
		return fmt.Errorf("write %s (%s): %w", l.t.qname(), b[0].loc, err)
	}
	return nil
}

func (l *load) execOnce(ctx context.Context, b batch) error {
	b, err := l.dropWrittenLists(ctx, b)
	if err != nil || len(b) == 0 {
		return err
	}
	if len(b) == 1 {
		return l.sess.Query(b[0].cql, b[0].vals...).WithContext(ctx).Idempotent(!b[0].counter).Exec()
	}
	typ := gocql.UnloggedBatch
	if b[0].counter {
		typ = gocql.CounterBatch
	}
	bt := l.sess.NewBatch(typ).WithContext(ctx)
	for _, s := range b {
		bt.Query(s.cql, s.vals...)
	}
	return l.sess.ExecuteBatch(bt)
}

// dropWrittenLists leaves out list additions the target already holds:
// those whose write time some element of the target's list has.
func (l *load) dropWrittenLists(ctx context.Context, b batch) (batch, error) {
	out := b[:0:0]
	for _, s := range b {
		if s.list == "" {
			out = append(out, s)
			continue
		}
		var wts []int64
		q, vals := l.selectWhere("writetime("+cqlIdent(s.list)+")", s.where)
		if err := l.sess.Query(q, vals...).WithContext(ctx).Scan(&wts); err != nil && !errors.Is(err, gocql.ErrNotFound) {
			return nil, err
		}
		if !slices.Contains(wts, s.ts) {
			out = append(out, s)
		}
	}
	return out, nil
}

// selectWhere renders SELECT what FROM the target WHERE keys.
func (l *load) selectWhere(what string, keys []keyCol) (string, []interface{}) {
	var b strings.Builder
	b.WriteString("SELECT " + what + " FROM " + l.t.qname())
	var vals []interface{}
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(cqlIdent(k.Name) + " = fromJson(?)")
		vals = append(vals, k.JSON)
	}
	return b.String(), vals
}
