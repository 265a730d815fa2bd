package format

import (
	"testing"
	"time"
)

// TestParseUTC checks the fast timestamp path against time.Parse: every
// form it takes must give time.Parse's result exactly, and the others
// must be left to time.Parse.
func TestParseUTC(t *testing.T) {
	for _, tc := range []struct {
		in   string
		fast bool
	}{
		{"2025-06-19T11:37:12Z", true},
		{"2025-06-19T11:37:12.1Z", true},
		{"2025-06-19T11:37:12.123456789Z", true},
		{"2025-06-19T11:37:12.000000001Z", true},
		{"1970-01-01T00:00:00Z", true},
		{"0001-01-01T00:00:00Z", true},
		{"2024-02-29T23:59:59.5Z", true},
		{"2023-02-29T00:00:00Z", false},  // no such day: time.Parse's error
		{"2025-13-01T00:00:00Z", false},  // month
		{"2025-06-19T24:00:00Z", false},  // hour
		{"2025-06-19T11:37:60Z", false},  // second
		{"2025-06-19T11:37:12.Z", false}, // empty fraction
		{"2025-06-19T11:37:12.1234567891Z", false},
		{"2025-06-19T11:37:12+02:00", false},
		{"2025-06-19T11:37:12.5+02:00", false},
		{"2025-06-19 11:37:12Z", false},
		{"2025-6-19T11:37:12Z", false},
		{"+025-06-19T11:37:12Z", false},
	} {
		got, ok := parseUTC([]byte(tc.in))
		if ok != tc.fast {
			t.Errorf("parseUTC(%q) ok = %v, want %v", tc.in, ok, tc.fast)
			continue
		}
		if !ok {
			continue
		}
		want, err := time.Parse(time.RFC3339Nano, tc.in)
		if err != nil || got != want || got.Location() != want.Location() {
			t.Errorf("parseUTC(%q) = %v (%v), time.Parse gives %v, %v", tc.in, got, got.Location(), want, err)
		}
	}
}

// TestDecodeModTimeRoundTrip encodes times as the encoder does (UTC and
// with an offset) and checks that decoding gives them back.
func TestDecodeModTimeRoundTrip(t *testing.T) {
	for _, mt := range []time.Time{
		time.Date(2025, 6, 19, 11, 37, 12, 123456789, time.UTC),
		time.Date(2025, 6, 19, 11, 37, 12, 120000000, time.UTC),
		time.Date(2025, 6, 19, 11, 37, 12, 0, time.FixedZone("x", 7200)),
		time.Unix(0, 0).UTC(),
	} {
		rec := FileRecord{Path: "a", ModTime: mt}
		line, err := rec.AppendLine(nil)
		if err != nil {
			t.Fatal(err)
		}
		var m FileRecord
		if err := DecodeFileRecord(line, &m); err != nil {
			t.Fatalf("decode %s: %v", line, err)
		}
		if !m.ModTime.Equal(mt) {
			t.Fatalf("decoded %s as %v, want %v", line, m.ModTime, mt)
		}
	}
}
