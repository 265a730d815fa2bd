package relational

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/stratabackup/strata/sources"
)

// Differ computes a table's @diff from two stored versions alone (no
// server): the newer schema.sql (and other small files), the rows added
// or changed in (from, to] in the data file's format and order, and
// <table>.deleted with the keys of the rows removed, one per line in the
// same format (key columns only; whole rows for a table without a key).
type Differ struct{ d dialect }

var _ sources.Differ = Differ{}

// Diff writes what changed in (from, to] to w.
func (df Differ) Diff(ctx context.Context, from, to sources.VersionReader, w sources.Writer) error {
	if to.Info().Meta["type"] == "view" {
		for _, e := range to.Entries() {
			if err := copyEntry(ctx, to, e, w); err != nil {
				return err
			}
		}
		return nil
	}
	l, err := readLayout(to.Info().Meta)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	data := dataFileName(df.d, l.table)
	del := sources.EscapeName(l.table + deletedExt)
	mtime := to.Info().Time
	extras := map[string][]byte{}
	for _, f := range df.d.diffExtras(l, data, del) {
		extras[f.Name] = f.Data
		if err := w.Add(ctx, fileEntry(f.Name, mtime, int64(len(f.Data))), bytes.NewReader(f.Data)); err != nil {
			return fmt.Errorf("diff: write %s: %w", f.Name, err)
		}
	}
	for _, e := range to.Entries() {
		if _, ok := extras[e.Path]; !ok && e.Type == sources.TypeFile && e.Path != data {
			if err := copyEntry(ctx, to, e, w); err != nil {
				return err
			}
		}
	}
	ix := newRowIndex(df.d.lineKey(l.keyPositions()))
	load := func(ctx context.Context, r io.Reader) error { return ix.load(ctx, r, 0) }
	if err := readInto(ctx, from, data, load); err != nil {
		return fmt.Errorf("diff %s: older version: %w", data, err)
	}
	var changed bytes.Buffer
	err = readInto(ctx, to, data, func(ctx context.Context, r io.Reader) error {
		return changedRows(ctx, ix, r, &changed)
	})
	if err != nil {
		return fmt.Errorf("diff %s: newer version: %w", data, err)
	}
	if err := w.Add(ctx, fileEntry(data, mtime, int64(changed.Len())), &changed); err != nil {
		return fmt.Errorf("diff: write %s: %w", data, err)
	}
	var deleted bytes.Buffer
	if err := readInto(ctx, from, data, func(ctx context.Context, r io.Reader) error {
		return deletedKeys(ctx, ix, r, &deleted)
	}); err != nil {
		return fmt.Errorf("diff %s: older version: %w", data, err)
	}
	if err := w.Add(ctx, fileEntry(del, mtime, int64(deleted.Len())), &deleted); err != nil {
		return fmt.Errorf("diff: write %s: %w", del, err)
	}
	return nil
}

// readInto opens a version's file (an absent file reads as empty).
func readInto(ctx context.Context, v sources.VersionReader, path string, f func(context.Context, io.Reader) error) error {
	if !hasFile(v, path) {
		return f(ctx, bytes.NewReader(nil))
	}
	rc, err := v.Open(ctx, path)
	if err != nil {
		return err
	}
	defer rc.Close()
	return f(ctx, rc)
}

func hasFile(v sources.VersionReader, path string) bool {
	for _, e := range v.Entries() {
		if e.Path == path {
			return true
		}
	}
	return false
}

// changedRows writes the rows of r that the older version lacks or had
// otherwise, marking every key of r seen.
func changedRows(ctx context.Context, ix *rowIndex, r io.Reader, out *bytes.Buffer) error {
	lr := newLineReader(r)
	var buf []byte
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		var p *prevRow
		var same bool
		buf, p, same = ix.lookup(buf, line)
		if p != nil {
			p.seen = true
		}
		if !same {
			out.Write(line)
		}
	}
}

// deletedKeys writes the keys of the older rows whose key was not seen.
func deletedKeys(ctx context.Context, ix *rowIndex, r io.Reader, out *bytes.Buffer) error {
	lr := newLineReader(r)
	var buf []byte
	var h uint64
	for n := 0; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		start := lr.off
		line, err := lr.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		buf, h = ix.keyHash(buf, line)
		if p := ix.rows[h]; p != nil && p.off == start && !p.seen {
			out.Write(buf)
			out.WriteByte('\n')
		}
	}
}

func copyEntry(ctx context.Context, v sources.VersionReader, e sources.Entry, w sources.Writer) error {
	rc, err := v.Open(ctx, e.Path)
	if err != nil {
		return fmt.Errorf("diff: open %s: %w", e.Path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("diff: read %s: %w", e.Path, err)
	}
	e.Size = int64(len(b))
	if err := w.Add(ctx, e, bytes.NewReader(b)); err != nil {
		return fmt.Errorf("diff: write %s: %w", e.Path, err)
	}
	return nil
}
