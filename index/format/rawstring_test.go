package format

import (
	"encoding/json"
	"testing"
)

// TestRawStringRoundTrip covers both decoding paths: plain strings (taken
// as they are) and strings with escapes or invalid UTF-8.
func TestRawStringRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain/name.txt", `with "quotes"`, `back\slash`, "ctl\x01\n", "\xff\xfe invalid", "日本語", "tab\there", "</script>&"} {
		b, err := json.Marshal(RawString(s))
		if err != nil {
			t.Fatalf("marshal %q: %v", s, err)
		}
		var got RawString
		if err := json.Unmarshal(b, &got); err != nil || string(got) != s {
			t.Errorf("round trip of %q via %s: got %q, %v", s, b, got, err)
		}
	}
}

// TestOwnerRoundTrip covers the owner's fast and general decoding paths.
func TestOwnerRoundTrip(t *testing.T) {
	for _, o := range []mowner{
		{UID: 0, GID: 0},
		{UID: 1234, GID: 5678, User: "alice", Group: "staff"},
		{UID: -1, GID: -1, User: "hdfs", Group: "supergroup"},
		{UID: 7, GID: -1, User: "", Group: "grp"},
		{UID: 7, GID: 8, User: "usr", Group: ""},
		{UID: 1, GID: 2, User: `we"ird`, Group: `a","b`},
		{UID: 1, GID: 2, User: "\xff\xfe", Group: "日本"},
		{UID: 1000, GID: 1000, User: "same", Group: "same"},
		{UID: 999999999999999999, GID: -999999999999999999},
	} {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal %+v: %v", o, err)
		}
		var got mowner
		if err := json.Unmarshal(b, &got); err != nil || got != o {
			t.Errorf("round trip of %+v via %s: got %+v, %v", o, b, got, err)
		}
	}
	for _, bad := range []string{`[1]`, `[1,2,"a"]`, `["x",2]`, `{"uid":1}`, `[-,2]`, `[1,2x]`, `[01,2]`} {
		var m mowner
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("owner %s accepted as %+v", bad, m)
		}
	}
}
