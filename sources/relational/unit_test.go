package relational

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"io"
	"testing"

	"github.com/stratabackup/strata/sources"
)

func TestKeyOf(t *testing.T) {
	line := []byte("1\ta\\tb\t\\N\tx\n")
	tests := []struct {
		key  []int
		want string
	}{{[]int{0}, "1"}, {[]int{1, 2}, "a\\tb\t\\N"}, {nil, "1\ta\\tb\t\\N\tx"}, {[]int{7}, ""}}
	for _, tc := range tests {
		if got := string(keyOf(nil, line, tc.key)); got != tc.want {
			t.Errorf("keyOf(%v) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestAppendTSV(t *testing.T) {
	tests := []struct {
		in   sql.RawBytes
		want string
	}{{nil, `\N`}, {sql.RawBytes{}, ""}, {sql.RawBytes("a\tb\nc\\d\re\x00"), `a\tb\nc\\d\re\0`}, {sql.RawBytes(`\N`), `\\N`}}
	for _, tc := range tests {
		if got := string(appendTSV(nil, tc.in)); got != tc.want {
			t.Errorf("appendTSV(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSpanner checks that rows equal to the previous file's become ranges
// of it (adjacent ones merged) and the rest new data, and that the spans
// rebuild the new file exactly.
func TestSpanner(t *testing.T) {
	prev := "1\ta\n2\tb\n3\tc\n4\td\n"
	next := []string{"1\ta\n", "2\tB\n", "3\tc\n", "4\td\n", "5\te\n"}
	ix := newRowIndex([]int{0})
	if err := ix.load(context.Background(), bytes.NewReader([]byte(prev)), 0); err != nil {
		t.Fatal(err)
	}
	i := 0
	sp := &spanner{ix: ix, next: func() ([]byte, error) {
		if i == len(next) {
			return nil, io.EOF
		}
		i++
		return []byte(next[i-1]), nil
	}}
	var out []byte
	var spans []sources.Span
	for {
		s, err := sp.nextSpan()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, sources.Span{Data: append([]byte(nil), s.Data...), Off: s.Off, Len: s.Len})
		if len(s.Data) > 0 {
			out = append(out, s.Data...)
		} else {
			out = append(out, prev[s.Off:s.Off+s.Len]...)
		}
	}
	want := "1\ta\n2\tB\n3\tc\n4\td\n5\te\n"
	if string(out) != want {
		t.Fatalf("spans rebuild %q, want %q (spans %+v)", out, want, spans)
	}
	if sp.Reused != 3 || sp.New != 2 || len(spans) != 4 {
		t.Errorf("reused %d, new %d, %d spans; want 3, 2 and 4 (range, new, range of two, new)", sp.Reused, sp.New, len(spans))
	}
}

func TestCutRanges(t *testing.T) {
	sample := [][]string{{"1"}, {"2"}, {"2"}, {"3"}, {"4"}, {"5"}}
	r := cutRanges(sample, 3)
	if len(r) != 3 || r[0].Lo != nil || r[0].Hi[0] != "2" || r[1].Lo[0] != "2" || r[1].Hi[0] != "4" || r[2].Hi != nil {
		t.Fatalf("cutRanges = %+v", r)
	}
	if r := cutRanges(nil, 4); len(r) != 1 || r[0].Lo != nil || r[0].Hi != nil {
		t.Fatalf("cutRanges of no sample = %+v, want one open range", r)
	}
}

func TestScope(t *testing.T) {
	dbs, named := Scope([]string{"shop/public.orders", "crm"})
	if len(dbs) != 2 || dbs[0] != "shop" || len(named) != 1 || named[0] != "shop/public.orders" {
		t.Fatalf("Scope = %v, %v", dbs, named)
	}
	if dbs, _ := Scope([]string{"shop", "c*"}); dbs != nil {
		t.Fatalf("a pattern database must list every database, got %v", dbs)
	}
}

// TestDSNNeverShown checks that a bad DSN's error does not repeat it.
func TestDSNNeverShown(t *testing.T) {
	dsn := "postgres://u:s3cret@host:99999999/db"
	_, err := pgConfig(dsn)
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("s3cret")) {
		t.Fatalf("pgConfig error %v shows the password or is missing", err)
	}
	_, err = myConfig("u:s3cret@tcp(host:1)/db?badparam=%zz")
	if err != nil && bytes.Contains([]byte(err.Error()), []byte("s3cret")) {
		t.Fatalf("myConfig error %v shows the password", err)
	}
}
