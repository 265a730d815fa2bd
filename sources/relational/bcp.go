package relational

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// SQL Server's bcp character format has no escaping: fields and rows end
// in terminators that the data must not contain. strata uses terminators
// that text data practically never holds, written into the non-XML format
// file so that `bcp t in t.bcp -f t.fmt` reads them back:
//
//	field terminator  \t|~|\t   (tab, '|~|', tab)
//	row terminator    \t|~|\r\n
//
// NULL is an empty field (bcp in with -k keeps it NULL); an empty string
// is one NUL byte, as bcp out writes it; binary columns are hex digits
// without 0x, as bcp's character format writes them.
const (
	bcpFieldTerm = "\t|~|\t"
	bcpRowTerm   = "\t|~|\r\n"
	bcpVersion   = "14.0" // the format file version of bcp 14 (SQL Server 2017 and later)
)

// bcpKind is how a SQL Server type is written in character format.
type bcpKind int

const (
	bcpText   bcpKind = iota // as the server's text (char, varchar, numbers, dates)
	bcpNText                 // nchar, nvarchar, ntext, xml: UTF-8 text like the rest
	bcpBinary                // binary, varbinary, image, rowversion: hex digits
)

// bcpType maps a SQL Server type name (as in sys.types / DATA_TYPE) to how
// its values are written and the host file data type of the format file.
// The file is UTF-8 throughout (load it with bcp -C 65001), so every host
// field is SQLCHAR: SQLNCHAR would mean UTF-16 data.
func bcpType(sqlType string) (bcpKind, string, error) {
	switch strings.ToLower(sqlType) {
	case "nchar", "nvarchar", "ntext", "sysname", "xml":
		return bcpNText, "SQLCHAR", nil
	case "binary", "varbinary", "image", "timestamp", "rowversion":
		return bcpBinary, "SQLCHAR", nil
	case "char", "varchar", "text", "bit", "tinyint", "smallint", "int", "bigint", "decimal", "numeric",
		"money", "smallmoney", "float", "real", "date", "time", "datetime", "datetime2", "smalldatetime",
		"datetimeoffset", "uniqueidentifier", "sql_variant", "hierarchyid", "geometry", "geography":
		return bcpText, "SQLCHAR", nil
	}
	return 0, "", fmt.Errorf("SQL Server type %q has no bcp character mapping", sqlType)
}

// bcpColumn is a column of a bcp file.
type bcpColumn struct {
	Name      string
	Type      string // SQL Server type name
	Collation string // "" for none (non-text columns)
}

// bcpField appends one value: nil is NULL (empty), "" a NUL byte, binary
// as hex. A value holding a terminator cannot be written.
func bcpField(dst []byte, kind bcpKind, v []byte) ([]byte, error) {
	switch {
	case v == nil:
		return dst, nil
	case len(v) == 0:
		return append(dst, 0), nil
	case kind == bcpBinary:
		return hex.AppendEncode(dst, v), nil
	}
	if strings.Contains(string(v), "|~|") {
		return nil, fmt.Errorf("value holds the bcp terminator |~|")
	}
	return append(dst, v...), nil
}

// bcpRow appends a row: fields separated by the field terminator, the
// last ended by the row terminator.
func bcpRow(dst []byte, kinds []bcpKind, vals [][]byte) ([]byte, error) {
	var err error
	for i, v := range vals {
		if dst, err = bcpField(dst, kinds[i], v); err != nil {
			return nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		if i < len(vals)-1 {
			dst = append(dst, bcpFieldTerm...)
		}
	}
	return append(dst, bcpRowTerm...), nil
}

// bcpFormat writes the non-XML format file of cols, in the layout of SQL
// Server's documentation ("Non-XML Format Files"): the version, the number
// of columns, then per field: host field order, host data type, prefix
// length (0 in character files), host data length (0: up to the
// terminator), terminator, server column order, server column name,
// column collation ("" for none).
func bcpFormat(cols []bcpColumn) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%d\n", bcpVersion, len(cols))
	for i, c := range cols {
		_, host, err := bcpType(c.Type)
		if err != nil {
			return "", fmt.Errorf("column %s: %w", c.Name, err)
		}
		term := bcpFieldTerm
		if i == len(cols)-1 {
			term = bcpRowTerm
		}
		coll := `""`
		if c.Collation != "" {
			coll = c.Collation
		}
		fmt.Fprintf(&b, "%-7d %-12s %-7d %-8d %-12s %-5d %-24s %s\n", i+1, host, 0, 0,
			`"`+bcpEscape(term)+`"`, i+1, bcpName(c.Name), coll)
	}
	return b.String(), nil
}

// bcpEscape writes a terminator as the format file spells it.
func bcpEscape(s string) string {
	r := strings.NewReplacer("\t", `\t`, "\r", `\r`, "\n", `\n`, `\`, `\\`, `"`, `\"`)
	return r.Replace(s)
}

// bcpName writes a column name as one format-file token: names with
// blanks are quoted.
func bcpName(n string) string {
	if strings.ContainsAny(n, " \t\"") {
		return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
	}
	return n
}
