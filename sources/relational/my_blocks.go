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

// Block checksums for MariaDB/MySQL (blocks.go): the server encodes each
// row as its values joined by NUL (CONCAT_WS(X'00', ...)), each value as
// myValue says: numbers, dates and times as they are (their text never
// holds a NUL) and NULL as the byte 01 (which no such text is), strings as
// QUOTE writes them (which escapes NUL, and writes NULL unquoted), in
// utf8mb4, which is what the client's text protocol receives. A block's
// checksum is SHA2 of its rows' encodings joined by NUL, in one
// SHA2(GROUP_CONCAT(...)); the client encodes the values it received the
// same way (myRowHasher) while it reads them. A row has a fixed number of
// values and none holds the separator, so the encoding is one-to-one:
// equal checksums mean equal values as the server renders them.

// myRowHasher hashes rows into their blocks' sums during a read.
type myRowHasher struct {
	enc   []byte
	plain []bool
}

// add encodes one row's values into the sum of its key's block.
func (h *myRowHasher) add(s *blockSums, t *table, vals []sql.RawBytes, lineLen int) error {
	k, err := strconv.ParseInt(string(vals[t.Key[0]]), 10, 64)
	if err != nil {
		return fmt.Errorf("the key of a row of %s: %w", myIdent(t.Schema, t.Name), err)
	}
	if h.plain == nil {
		for _, c := range t.dataColumns() {
			h.plain = append(h.plain, myPlainValue(c))
		}
	}
	h.enc = h.enc[:0]
	for i, v := range vals {
		if i > 0 {
			h.enc = append(h.enc, 0)
		}
		switch {
		case !h.plain[i]:
			h.enc = appendQuote(h.enc, v)
		case v == nil:
			h.enc = append(h.enc, 1)
		default:
			h.enc = append(h.enc, v...)
		}
	}
	s.add(s.layout.block(k), h.enc, lineLen)
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

// myPlainValue reports whether a column's text is a number, date or time
// (BIT is read as a number).
func myPlainValue(c column) bool {
	return c.Read != "" || myTypeClass(c.Type) == "plain"
}

// myValue is the server's encoding of one value.
func myValue(c column) string {
	v := myIdent(c.Name)
	if c.Read != "" {
		v = c.Read
	}
	if myPlainValue(c) {
		return "IFNULL(" + v + ", X'01')"
	}
	switch strings.ToLower(c.Charset) {
	case "", "binary", "utf8mb4", "utf8mb3", "utf8", "ascii":
		// Bytes as they are, or already what the client receives.
	default:
		v = "CONVERT(" + v + " USING utf8mb4)"
	}
	return "QUOTE(" + v + ")"
}

// myRowEncoding is the server's expression of a row's encoding.
func myRowEncoding(t *table) string {
	data := t.dataColumns()
	fields := make([]string, len(data))
	for i, c := range data {
		fields[i] = myValue(c)
	}
	return "CONCAT_WS(X'00', " + strings.Join(fields, ", ") + ")"
}

// myTypeClass sorts a COLUMN_TYPE: "plain" (numbers, dates and times),
// "text" (character strings, ENUM, SET, JSON) or "bytes" (binary strings,
// spatial types, anything else).
func myTypeClass(typ string) string {
	base := strings.ToLower(typ)
	if i := strings.IndexAny(base, "( "); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "numeric", "float", "double", "real",
		"date", "datetime", "timestamp", "time", "year":
		return "plain"
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set", "json":
		return "text"
	}
	return "bytes"
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
// over their encodings joined by NUL in key order (the order a range scan
// of the primary key yields them in; any other order only makes the block
// look changed, as does a concatenation cut short by
// group_concat_max_len).
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
	q := "SELECT COUNT(*), SHA2(GROUP_CONCAT(" + myRowEncoding(t) + " SEPARATOR X'00'), 256) FROM " + myIdent(t.Schema, t.Name) + where
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
