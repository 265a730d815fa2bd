package sources

import (
	"strings"
	"testing"
)

func TestEscapeNameRoundTrip(t *testing.T) {
	for _, raw := range []string{
		"plain.txt", "", ".", "..", "...", ".. x", "a/b", "50%", "back\\slash",
		"ctl\x01\n\t", "bad\xff\xfeutf8", "ünïcödé ok", "\u0085c1", "del\x7f",
		strings.Repeat("x", 255), strings.Repeat("é", 120),
	} {
		esc := EscapeName(raw)
		if len(esc) > MaxNameLen {
			t.Fatalf("%q escaped to %d bytes", raw, len(esc))
		}
		if strings.ContainsAny(esc, "/\x00") || esc == "." || esc == ".." {
			t.Fatalf("%q escaped to unsafe %q", raw, esc)
		}
		back, ok := UnescapeName(esc)
		if !ok || back != raw {
			t.Fatalf("%q -> %q -> %q (%v)", raw, esc, back, ok)
		}
	}
}

func TestEscapeNameShortensLongEscapes(t *testing.T) {
	raw := strings.Repeat("\x01", 200)
	esc := EscapeName(raw)
	if len(esc) > MaxNameLen || !IsShortened(esc) {
		t.Fatalf("long escape %d bytes, shortened=%v", len(esc), IsShortened(esc))
	}
	if _, ok := UnescapeName(esc); ok {
		t.Fatal("a shortened name must not unescape")
	}
	if EscapeName(raw+"\x02") == esc {
		t.Fatal("two long names share one shortened name")
	}
}

func TestUnescapeRejectsForeignNames(t *testing.T) {
	for _, name := range []string{"%", "%zz", "%41", ".", "..", ""} {
		if _, ok := UnescapeName(name); ok {
			t.Fatalf("%q unescaped, but EscapeName never produces it", name)
		}
	}
}

func TestEscapeLinkTarget(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct{ raw, want string }{
		{"plain/file", "plain/file"},
		{"/abs/path", "/abs/path"},
		{"../up/./here", "../up/./here"},
		{"dir\xff/f", "dir%FF/f"},
		{"100%/x", "100%25/x"},
		{"tab\there", "tab%09here"},
		{"a//b/", "a//b/"},
		{"../" + long, "../" + EscapeName(long)},
	} {
		if got := EscapeLinkTarget(tc.raw); got != tc.want {
			t.Errorf("EscapeLinkTarget(%q) = %q, want %q", tc.raw, got, tc.want)
		}
	}
}
