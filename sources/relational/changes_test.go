package relational

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// spanOut runs a spanner to the end and rebuilds the file against prev.
func spanOut(t *testing.T, sp *spanner, prev string) (string, error) {
	t.Helper()
	var out []byte
	for {
		s, err := sp.nextSpan()
		if errors.Is(err, io.EOF) {
			return string(out), nil
		}
		if err != nil {
			return string(out), err
		}
		if len(s.Data) > 0 {
			out = append(out, s.Data...)
		} else {
			out = append(out, prev[s.Off:s.Off+s.Len]...)
		}
	}
}

func lines(ls ...string) func() ([]byte, error) {
	return func() ([]byte, error) {
		if len(ls) == 0 {
			return nil, io.EOF
		}
		l := ls[0]
		ls = ls[1:]
		return []byte(l), nil
	}
}

func TestPrevMerge(t *testing.T) {
	prev := "1\ta\n2\tb\n3\tc\n4\td\n"
	for _, tc := range []struct {
		name    string
		changes []string
		want    string
		err     error
	}{
		{"update, delete, insert", []string{"f\t1\t\\N\n", "t\t2\tB\n", "f\t4\t\\N\n", "t\t5\te\n"}, "1\ta\n2\tB\n4\td\n5\te\n", nil},
		{"all unchanged", []string{"f\t1\t\\N\n", "f\t2\t\\N\n", "f\t3\t\\N\n", "f\t4\t\\N\n"}, prev, nil},
		{"all deleted", nil, "", nil},
		{"unchanged row not in the file", []string{"f\t1\t\\N\n", "f\t9\t\\N\n"}, "", errNotInPrevious},
		{"unchanged rows out of order", []string{"f\t3\t\\N\n", "f\t1\t\\N\n"}, "", errNotInPrevious},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp := &spanner{next: lines(tc.changes...), merge: &prevMerge{prev: newLineReader(bytes.NewReader([]byte(prev))), key: []int{0}}}
			got, err := spanOut(t, sp, prev)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err == nil && got != tc.want {
				t.Errorf("file %q, want %q", got, tc.want)
			}
			if tc.err == nil && sp.Size != int64(len(tc.want)) {
				t.Errorf("size %d, want %d", sp.Size, len(tc.want))
			}
		})
	}
}

// TestScanMerge merges the key lines and changed rows of a change scan
// with a previous file: updates, deletes, inserts in the middle and at the
// ends, a key changed; a key that the previous file lacks, or a changed
// row whose key is not listed, is errNotInPrevious.
func TestScanMerge(t *testing.T) {
	prev := "1\ta\n2\tb\n3\tc\n4\td\n"
	for _, tc := range []struct {
		name          string
		keys, changed []string
		want          string
		err           error
	}{
		{"unchanged", []string{"1\n", "2\n", "3\n", "4\n"}, nil, prev, nil},
		{"updates, deletes, inserts", []string{"0\n", "2\n", "2.5\n", "4\n", "5\n"}, []string{"0\tz\n", "2\tB\n", "2.5\tx\n", "5\te\n"},
			"0\tz\n2\tB\n2.5\tx\n4\td\n5\te\n", nil},
		{"key changed from 1 to 6", []string{"2\n", "3\n", "4\n", "6\n"}, []string{"6\ta\n"}, "2\tb\n3\tc\n4\td\n6\ta\n", nil},
		{"all deleted", nil, nil, "", nil},
		{"unchanged key not in the file", []string{"1\n", "9\n"}, nil, "", errNotInPrevious},
		{"changed row not among the keys", []string{"1\n"}, []string{"7\tq\n"}, "", errNotInPrevious},
		{"changed row left after the keys", []string{"1\n"}, []string{"1\tA\n", "8\tq\n"}, "", errNotInPrevious},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newScanMerge(prevMerge{prev: newLineReader(bytes.NewReader([]byte(prev))), key: []int{0}}, lines(tc.changed...))
			sp := &spanner{next: m.keysThenCheck(lines(tc.keys...)), merge: m}
			got, err := spanOut(t, sp, prev)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err == nil && (got != tc.want || sp.Size != int64(len(tc.want))) {
				t.Errorf("file %q (size %d), want %q", got, sp.Size, tc.want)
			}
		})
	}
}

// TestCountMerge merges a previous file and changed rows by integer key:
// updates, inserts between and around the previous rows, a key changed;
// rows deleted show in the count, a previous file holding another key in
// place of an unchanged row in the key sum (errDeleted); a previous file
// out of key order is errNotInPrevious.
func TestCountMerge(t *testing.T) {
	prev := "1\ta\n2\tb\n10\tc\n"
	for _, tc := range []struct {
		name     string
		prev     string
		changed  []string
		count    string
		prevRows int64
		want     string
		err      error
	}{
		{"unchanged", prev, nil, "3\t13\n", 3, prev, nil},
		{"updates and inserts", prev, []string{"-5\tn\n", "2\tB\n", "3\tx\n", "11\ty\n"}, "6\t22\n", 3, "-5\tn\n1\ta\n2\tB\n3\tx\n10\tc\n11\ty\n", nil},
		{"key changed from 1 to 9", prev, []string{"9\ta\n"}, "3\t21\n", -1, "", errDeleted},
		{"a row deleted, one inserted", prev, []string{"5\tq\n"}, "3\t17\n", 3, "", errDeleted},
		{"fewer rows than before", prev, nil, "2\t3\n", 3, "", errDeleted},
		{"previous file holds another key", prev, nil, "3\t14\n", 3, "", errDeleted},
		{"empty", "", nil, "0\t\\N\n", 0, "", nil},
		{"previous file out of order", "2\tb\n1\ta\n", nil, "2\t3\n", 2, "", errNotInPrevious},
		{"non-integer key", "x\tb\n", nil, "1\t0\n", 1, "", errNotInPrevious},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newCountMerge(context.Background(), prevMerge{prev: newLineReader(bytes.NewReader([]byte(tc.prev))), key: []int{0}},
				lines(tc.changed...), lines(tc.count), tc.prevRows)
			defer m.close()
			sp := &spanner{next: m.next, merge: m}
			got, err := spanOut(t, sp, tc.prev)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if tc.err == nil && (got != tc.want || sp.Size != int64(len(tc.want))) {
				t.Errorf("file %q (size %d), want %q", got, sp.Size, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0", 0, true}, {"-9223372036854775808", -1 << 63, true}, {"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false}, {"", 0, false}, {"-", 0, false}, {"1e3", 0, false}} {
		if n, ok := parseInt([]byte(tc.in)); n != tc.want || ok != tc.ok {
			t.Errorf("parseInt(%q) = %d, %v; want %d, %v", tc.in, n, ok, tc.want, tc.ok)
		}
	}
	var s sum128
	for _, v := range []int64{1<<63 - 1, 1<<63 - 1, 3, -1 << 63, -1 << 63, -1 << 63, -7} {
		s.add(v)
	}
	if got := s.big().String(); got != "-9223372036854775814" {
		t.Errorf("sum128: %s, want -9223372036854775814", got)
	}
}

func TestPgMark(t *testing.T) {
	m := pgMark{system: "7713", timeline: "00000001", oid: 42, xmin: 1 << 32, xmax: 1<<32 + 10, running: []uint64{1 << 32, 1<<32 + 3}, exact: true}
	back, err := parsePgMark(m.String())
	if err != nil || !reflect.DeepEqual(back, m) {
		t.Fatalf("%q parses to %+v (%v), want %+v", m.String(), back, err, m)
	}
	for _, bad := range []string{"", "pg1:1:1:1:1:2", "pg2:1:1:1:5:2:-", "pg2::1:1:1:2:-", "pg2:1:1:1:1:5:9", "pg2:1:1:x:1:5:-"} {
		if _, err := parsePgMark(bad); err == nil {
			t.Errorf("%q parses", bad)
		}
	}
}

func TestParseExportFile(t *testing.T) {
	file := "vxid:3/62\nxmin:4294967290\nxmax:5\nxcnt:2\nxip:4294967290\nxip:3\nsof:0\nsxcnt:1\nsxp:4\nrec:0\n"
	xmax64 := uint64(1<<32 + 5)
	ids, ok := parseExportFile(file, xmax64)
	if want := []uint64{4294967290, 1<<32 + 3, 1<<32 + 4}; !ok || !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v (%v), want %v", ids, ok, want)
	}
	for name, f := range map[string]string{
		"overflowed": "xmax:5\nxip:3\nsof:1\n",
		"no xmax":    "xip:3\nsof:0\n",
		"other xmax": "xmax:6\nxip:3\nsof:0\n",
		"bad id":     "xmax:5\nxip:x\nsof:0\n",
	} {
		if _, ok := parseExportFile(f, xmax64); ok {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKeysAhead reads keys of one and two integer columns back with their
// offsets and lengths, across batches and extreme deltas, and stops at a
// row out of order or a key that is not an integer.
func TestKeysAhead(t *testing.T) {
	var file strings.Builder
	var want [][]int64
	for i := int64(0); i < 100000; i++ {
		k := []int64{i * 3, -i}
		if i == 5 {
			k = []int64{15, math.MaxInt64}
		}
		if i == 6 {
			k = []int64{16, math.MinInt64}
		}
		fmt.Fprintf(&file, "%d\t%d\t%s\n", k[0], k[1], strings.Repeat("x", int(i%7)))
		want = append(want, k)
	}
	a := startKeysAhead(context.Background(), newLineReader(strings.NewReader(file.String())), []int{0, 1})
	defer a.close()
	var off int64
	var key []int64
	for i, w := range want {
		k, o, n, err := a.next(key)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		line := fmt.Sprintf("%d\t%d\t%s\n", w[0], w[1], strings.Repeat("x", i%7))
		if !slices.Equal(k, w) || o != off || int(n) != len(line) {
			t.Fatalf("row %d: key %v at %d (%d bytes), want %v at %d (%d)", i, k, o, n, w, off, len(line))
		}
		off += int64(n)
		key = k
	}
	if _, _, _, err := a.next(key); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last row: %v", err)
	}
	for _, bad := range []string{"1\ta\n1\tb\n", "2\ta\n1\tb\n", "1\ta\nx\tb\n", "1\ta\n2"} {
		a := startKeysAhead(context.Background(), newLineReader(strings.NewReader(bad)), []int{0})
		_, _, _, err := a.next(nil)
		if err == nil {
			_, _, _, err = a.next(nil)
		}
		if err == nil || errors.Is(err, io.EOF) {
			t.Errorf("%q: %v, want an error", bad, err)
		}
		a.close()
	}
	a = startKeysAhead(context.Background(), newLineReader(strings.NewReader(file.String())), []int{0, 1})
	a.close() // before reading: the goroutine ends
	if _, _, _, err := a.next(nil); err == nil {
		t.Error("next after close: no error")
	}
}
