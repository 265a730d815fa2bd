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
