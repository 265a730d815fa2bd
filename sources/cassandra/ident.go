package cassandra

import (
	"strings"
	"unicode/utf8"
)

// reserved are CQL's reserved keywords: a column or table of that name
// must be quoted (Cassandra's ReservedKeywords).
var reserved = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`add aggregate all allow alter and apply asc authorize batch begin by
		columnfamily create default delete desc describe drop entries execute from full grant if in index
		infinity insert into is keyspace limit mbean mbeans modify nan norecursive not null of on or order
		primary rename replace revoke schema select set table to token truncate unlogged unset update use
		using view where with`) {
		reserved[w] = true
	}
}

// cqlIdent renders a name as a CQL identifier: as is when it is a plain
// lower-case word, else double-quoted with quotes doubled (what
// Cassandra's ColumnIdentifier.maybeQuote does).
func cqlIdent(name string) string {
	if plainIdent(name) && !reserved[name] {
		return name
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func plainIdent(name string) bool {
	if name == "" || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// qualified is ks.table as CQL names it.
func qualified(ks, table string) string { return cqlIdent(ks) + "." + cqlIdent(table) }

// cqlString renders s as a CQL string literal.
func cqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// jsonKey is a column's key in INSERT JSON and in toJson's UDT objects:
// the CQL identifier, so that case-sensitive names keep their quotes.
func jsonKey(name string) string {
	return jsonString(cqlIdent(name))
}

// jsonString renders s as a JSON string, escaping what JSON requires and
// the line separators, so that a statement stays on one line. Runs of
// bytes that need no escape are copied whole: this runs for every text
// cell of a backup.
func jsonString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError && r != 0x2028 && r != 0x2029 {
				i += size
				continue
			}
		}
		b.WriteString(s[start:i])
		jsonEscape(&b, r)
		i += size
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
	return b.String()
}

// jsonEscape writes r escaped (U+FFFD for an invalid byte, as ranging
// over a string reads it).
func jsonEscape(b *strings.Builder, r rune) {
	switch {
	case r == '"':
		b.WriteString(`\"`)
	case r == '\\':
		b.WriteString(`\\`)
	case r == '\n':
		b.WriteString(`\n`)
	case r == '\r':
		b.WriteString(`\r`)
	case r == '\t':
		b.WriteString(`\t`)
	case r < 0x20 || r == 0x2028 || r == 0x2029:
		b.WriteString(`\u`)
		const hex = "0123456789abcdef"
		b.WriteByte(hex[r>>12&15])
		b.WriteByte(hex[r>>8&15])
		b.WriteByte(hex[r>>4&15])
		b.WriteByte(hex[r&15])
	default:
		b.WriteRune(r)
	}
}
