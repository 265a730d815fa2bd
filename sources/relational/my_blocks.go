package relational

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Block checksums for MariaDB/MySQL (blocks.go): the server hashes each
// row as SHA2(CONCAT_WS(X'00', QUOTE(v1), ..., QUOTE(vn)), 256), strings
// converted to utf8mb4 first, which is what the client's text protocol
// receives; the client hashes the values it received the same way
// (myRowHasher) while it reads them. QUOTE escapes NUL, so the encoding is
// one-to-one: equal hashes mean equal values as the server renders them.

// myRowHasher hashes rows into their blocks' sums during a read.
type myRowHasher struct {
	enc []byte
}

// add hashes one row's values into the sum of its key's block.
func (h *myRowHasher) add(s *blockSums, t *table, vals []sql.RawBytes, lineLen int) error {
	k, err := strconv.ParseInt(string(vals[t.Key[0]]), 10, 64)
	if err != nil {
		return fmt.Errorf("the key of a row of %s: %w", myIdent(t.Schema, t.Name), err)
	}
	h.enc = h.enc[:0]
	for i, v := range vals {
		if i > 0 {
			h.enc = append(h.enc, 0)
		}
		h.enc = appendQuote(h.enc, v)
	}
	sum := sha256.Sum256(h.enc)
	s.add(s.layout.block(k), sum[:], lineLen)
	return nil
}

// appendQuote appends v as MariaDB's QUOTE() writes it: NULL as the word
// NULL, anything else in single quotes with backslash, quote, NUL and
// Control-Z escaped by a backslash (NUL as \0, Control-Z as \Z).
func appendQuote(dst []byte, v sql.RawBytes) []byte {
	if v == nil {
		return append(dst, "NULL"...)
	}
	dst = append(dst, '\'')
	start := 0
	for i, c := range v {
		if !quoteEscaped[c] {
			continue
		}
		dst = append(dst, v[start:i]...)
		start = i + 1
		switch c {
		case 0:
			dst = append(dst, `\0`...)
		case 0x1a:
			dst = append(dst, `\Z`...)
		default:
			dst = append(dst, '\\', c)
		}
	}
	return append(append(dst, v[start:]...), '\'')
}

// quoteEscaped marks the bytes appendQuote escapes.
var quoteEscaped = [256]bool{'\\': true, '\'': true, 0: true, 0x1a: true}

// myRowHash is the server's expression of a row's hash.
func myRowHash(t *table) string {
	data := t.dataColumns()
	fields := make([]string, len(data))
	for i, c := range data {
		v := myIdent(c.Name)
		switch {
		case c.Read != "":
			v = c.Read
		case myTextType(c.Type):
			v = "CONVERT(" + v + " USING utf8mb4)"
		}
		fields[i] = "QUOTE(" + v + ")"
	}
	return "UNHEX(SHA2(CONCAT_WS(X'00', " + strings.Join(fields, ", ") + "), 256))"
}

// myTextType reports whether a COLUMN_TYPE is a character string (which
// the text protocol converts to utf8mb4).
func myTextType(typ string) bool {
	base := strings.ToLower(typ)
	if i := strings.IndexAny(base, "( "); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json":
		return true
	}
	return false
}

// keySpan returns the smallest and largest key of a table keyed by one
// signed-range integer column; ok is false for any other key, or no row.
func (sn *mySnap) keySpan(ctx context.Context, t *table) (lo, hi int64, ok bool, err error) {
	if !myIntegerKey(t) || strings.Contains(strings.ToLower(t.dataColumns()[t.Key[0]].Type), "unsigned") {
		return 0, 0, false, nil
	}
	c, err := sn.acquire(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	defer func() { sn.release(c, err != nil && ctx.Err() != nil) }()
	k := myIdent(t.dataColumns()[t.Key[0]].Name)
	var l, h sql.NullInt64
	if err := c.QueryRowContext(ctx, "SELECT MIN("+k+"), MAX("+k+") FROM "+myIdent(t.Schema, t.Name)).Scan(&l, &h); err != nil {
		return 0, 0, false, fmt.Errorf("key bounds of %s: %w", myIdent(t.Schema, t.Name), err)
	}
	return l.Int64, h.Int64, l.Valid, nil
}

// blockSum returns the rows of r and the checksum of their values: SHA-256
// over their row hashes in key order (the order a range scan of the
// primary key yields them in; any other order only makes the block look
// changed).
func (sn *mySnap) blockSum(ctx context.Context, t *table, r keyRange) (rows int64, sum []byte, err error) {
	c, err := sn.acquire(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer func() { sn.release(c, err != nil) }()
	where, err := myRangeWhere(t, r)
	if err != nil {
		return 0, nil, err
	}
	q := "SELECT COUNT(*), SHA2(GROUP_CONCAT(" + myRowHash(t) + " SEPARATOR ''), 256) FROM " + myIdent(t.Schema, t.Name) + where
	var s sql.NullString
	if err := c.QueryRowContext(ctx, q).Scan(&rows, &s); err != nil {
		return 0, nil, fmt.Errorf("checksum a block of %s: %w", myIdent(t.Schema, t.Name), err)
	}
	if rows == 0 {
		return 0, nil, nil
	}
	sum, err = hex.DecodeString(s.String)
	if err != nil || len(sum) != sha256.Size {
		return 0, nil, fmt.Errorf("checksum a block of %s: the server returned %.70q", myIdent(t.Schema, t.Name), s.String)
	}
	return rows, sum, nil
}
