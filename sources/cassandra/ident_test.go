package cassandra

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// jsonStringRune is jsonString as it was, rune by rune: the reference
// for the byte-run version.
func jsonStringRune(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		jsonEscape(&b, r)
	}
	b.WriteByte('"')
	return b.String()
}

func TestJSONString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain text 123", `"plain text 123"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"l1\nl2\r\t\x01", `"l1\nl2\r\t\u0001"`},
		{"ünïcødé ☃", `"ünïcødé ☃"`},
		{"sep\u2028and\u2029", `"sep\u2028and\u2029"`},
		{"bad\xffbyte", "\"bad\uFFFDbyte\""},
		{"'quoted'", `"'quoted'"`},
	} {
		if got := jsonString(tc.in); got != tc.want {
			t.Errorf("jsonString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	alphabet := []string{"a", "Z", " ", `"`, `\`, "\n", "\x00", "\x1f", "é", "☃", "\u2028", "\u2029", "\xff", "\xe2\x80", "𝄞", "\uFFFD"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		got, want := jsonString(s), jsonStringRune(s)
		if got != want {
			t.Fatalf("jsonString(%q) = %s, rune by rune %s", s, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil || !strings.Contains(s, "\xe2\x80") && !strings.Contains(s, "\xff") && back != s {
			t.Fatalf("jsonString(%q) = %s: decodes to %q, %v", s, got, back, err)
		}
	}
}

// BenchmarkJSONString renders a 1 KiB text cell (base64, as the bench's
// table holds): compare with BenchmarkJSONStringRune, the old way.
func BenchmarkJSONString(b *testing.B) {
	s := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789+/", 27)
	for b.Loop() {
		jsonString(s)
	}
}

func BenchmarkJSONStringRune(b *testing.B) {
	s := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789+/", 27)
	for b.Loop() {
		jsonStringRune(s)
	}
}
