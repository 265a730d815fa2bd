package relational

import (
	"strings"
	"testing"
)

// TestBCPFormatFile checks the non-XML format file against the layout of
// SQL Server's documentation ("Create a Format File", the non-XML example
// for a table of three columns): version line, column count, then eight
// fields per host column.
func TestBCPFormatFile(t *testing.T) {
	got, err := bcpFormat([]bcpColumn{
		{Name: "PersonID", Type: "smallint"},
		{Name: "FirstName", Type: "nvarchar", Collation: "SQL_Latin1_General_CP1_CI_AS"},
		{Name: "Photo", Type: "varbinary"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `14.0
3
1       SQLCHAR      0       0        "\t|~|\t"    1     PersonID                 ""
2       SQLCHAR      0       0        "\t|~|\t"    2     FirstName                SQL_Latin1_General_CP1_CI_AS
3       SQLCHAR      0       0        "\t|~|\r\n"  3     Photo                    ""
`
	if got != want {
		t.Fatalf("format file:\n%s\nwant:\n%s", got, want)
	}
	for i, line := range strings.Split(strings.TrimSpace(got), "\n")[2:] {
		if n := len(strings.Fields(line)); n != 8 {
			t.Errorf("host field %d has %d tokens, want the documented 8: %q", i+1, n, line)
		}
	}
}

// TestBCPRows checks character-format rows: NULL empty, ” one NUL byte,
// binary as hex, terminators between and after fields.
func TestBCPRows(t *testing.T) {
	kinds := []bcpKind{bcpText, bcpNText, bcpBinary, bcpText}
	tests := []struct {
		name string
		vals [][]byte
		want string
	}{
		{"values", [][]byte{[]byte("42"), []byte("ünï\ttab"), {0, 0xff}, []byte("2026-01-01")}, "42\t|~|\tünï\ttab\t|~|\t00ff\t|~|\t2026-01-01\t|~|\r\n"},
		{"null and empty", [][]byte{nil, {}, nil, {}}, "\t|~|\t\x00\t|~|\t\t|~|\t\x00\t|~|\r\n"},
		{"empty binary", [][]byte{[]byte("1"), nil, {}, nil}, "1\t|~|\t\t|~|\t\x00\t|~|\t\t|~|\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := bcpRow(nil, kinds, tc.vals)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("row %q, want %q", got, tc.want)
			}
		})
	}
	if _, err := bcpRow(nil, kinds, [][]byte{[]byte("a|~|b"), nil, nil, nil}); err == nil {
		t.Fatal("a value holding the terminator was written")
	}
}

// TestBCPTypes checks the type mapping: binary is hex, everything else
// the server's text, all SQLCHAR in a UTF-8 file (SQLNCHAR would be
// UTF-16), and an unknown type is an error naming it.
func TestBCPTypes(t *testing.T) {
	tests := []struct {
		typ  string
		kind bcpKind
		host string
	}{
		{"int", bcpText, "SQLCHAR"}, {"NVARCHAR", bcpNText, "SQLCHAR"}, {"varbinary", bcpBinary, "SQLCHAR"},
		{"datetimeoffset", bcpText, "SQLCHAR"}, {"uniqueidentifier", bcpText, "SQLCHAR"}, {"xml", bcpNText, "SQLCHAR"},
		{"rowversion", bcpBinary, "SQLCHAR"}, {"decimal", bcpText, "SQLCHAR"},
	}
	for _, tc := range tests {
		k, h, err := bcpType(tc.typ)
		if err != nil || k != tc.kind || h != tc.host {
			t.Errorf("bcpType(%q) = %v, %q, %v; want %v, %q", tc.typ, k, h, err, tc.kind, tc.host)
		}
	}
	if _, _, err := bcpType("cursor"); err == nil || !strings.Contains(err.Error(), "cursor") {
		t.Errorf("bcpType(cursor): %v, want an error naming the type", err)
	}
}
