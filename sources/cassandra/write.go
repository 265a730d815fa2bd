package cassandra

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stratabackup/strata/sources"
)

// writePart writes one data part: its ranges' rows as statements, lines
// unchanged since the previous version's part as references to it.
func (b *tableBackup) writePart(ctx context.Context, p int, ranges []int) error {
	path := partName(p)
	prev, err := loadPrevLines(ctx, b.prev, path)
	if err != nil {
		b.ss.src.cfg.Logger.Warn("previous version's part unreadable; storing it anew", "file", path, "err", err)
		prev = nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	pr := newPartReader(ctx, b.sc, b.ranges, ranges, b.ahead())
	defer pr.close()
	pw := &partWriter{ctx: ctx, pr: pr, rw: newRowWriter(b.t, b.ss.at.UnixMicro()), sp: &spanner{prev: prev}}
	pw.sp.addData([]byte(b.header(p, ranges)))
	if err := b.w.AddSpans(ctx, fileEntry(path, b.ss.at, -1), pw.next); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	b.add(pw)
	return nil
}

// header is a part's first line: what it holds. It is the same in every
// version of the part (unchanged parts are unchanged files); the TTLs
// count from the version's scan start, scan_start_us in its manifest.
func (b *tableBackup) header(p int, ranges []int) string {
	lo, hi := int64(minToken), int64(maxToken)
	if len(ranges) > 0 {
		lo, hi = b.ranges[ranges[0]].Start, b.ranges[ranges[len(ranges)-1]].End
	}
	return fmt.Sprintf("-- strata: %s data part %d of %d, tokens (%d,%d]; TTLs are those left at the backup's start. Run schema.cql first.\n",
		b.t.qname(), p+1, b.parts, lo, hi)
}

// add sums a finished part's counts.
func (b *tableBackup) add(pw *partWriter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rows += pw.rw.Rows
	b.partitions += pw.rw.Partitions
	b.cells += pw.rw.Cells
	b.after += pw.rw.After
	b.skipped += pw.rw.Skipped
	b.reused += pw.sp.Reused
	b.newLines += pw.sp.NewRows
	b.dataBytes += pw.bytes
	b.stmts += pw.stmts
}

// partWriter is the next function of one part's AddSpans.
type partWriter struct {
	ctx   context.Context
	pr    *partReader
	rw    *rowWriter
	sp    *spanner
	buf   []byte
	done  bool
	bytes int64
	stmts int64
}

func (pw *partWriter) next() (sources.Span, error) {
	for {
		if err := pw.ctx.Err(); err != nil {
			return sources.Span{}, err
		}
		if sp, ok := pw.sp.pop(); ok {
			pw.bytes += spanLen(sp)
			return sp, nil
		}
		if pw.done {
			return sources.Span{}, io.EOF
		}
		r, err := pw.pr.next()
		if errors.Is(err, io.EOF) {
			pw.done = true
			pw.sp.flush()
			continue
		}
		if err != nil {
			return sources.Span{}, err
		}
		if pw.buf, err = pw.rw.write(pw.buf[:0], r); err != nil {
			return sources.Span{}, err
		}
		pw.addLines(pw.buf)
	}
}

// addLines hands each statement line of b to the spanner.
func (pw *partWriter) addLines(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		pw.sp.add(b[:i+1])
		pw.stmts++
		b = b[i+1:]
	}
}

func spanLen(sp sources.Span) int64 {
	if len(sp.Data) > 0 {
		return int64(len(sp.Data))
	}
	return sp.Len
}
