package sources

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/zeebo/blake3"
)

// MaxNameLen is the longest escaped name component handed to a filesystem
// (Linux NAME_MAX).
const MaxNameLen = 255

// EscapeName turns one raw name component from a source (untrusted bytes)
// into a name that is safe as a single path component on any filesystem and
// object store: '%', '/', '\\', NUL and other control characters, DEL and
// bytes that are not valid UTF-8 become %XX; the names "", "." and ".."
// become "%00", "%2E" and "%2E%2E". Everything else, including any valid
// non-ASCII UTF-8, passes unchanged, so ordinary names read as themselves.
//
// The escaping is reversible by UnescapeName, except for results longer
// than MaxNameLen bytes: those are cut and end in "~" plus 16 hex digits of
// a hash of the raw name, so that they stay unique; whoever shows such a
// name must map it back through its own listing (IsShortened tells).
func EscapeName(raw string) string {
	switch raw {
	case "":
		return "%00"
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	var b strings.Builder
	for i := 0; i < len(raw); {
		r, size := utf8.DecodeRuneInString(raw[i:])
		c := raw[i]
		switch {
		case r == utf8.RuneError && size <= 1:
			escapeByte(&b, c)
		case c == '%' || c == '/' || c == '\\' || c < 0x20 || c == 0x7f:
			escapeByte(&b, c)
		case r >= 0x80 && r < 0xa0: // C1 controls
			for j := 0; j < size; j++ {
				escapeByte(&b, raw[i+j])
			}
		default:
			b.WriteString(raw[i : i+size])
		}
		i += size
	}
	s := b.String()
	if len(s) <= MaxNameLen {
		return s
	}
	sum := blake3.Sum256([]byte(raw))
	suffix := "~" + hex.EncodeToString(sum[:8])
	cut := MaxNameLen - len(suffix)
	// Do not cut inside a %XX escape or a UTF-8 sequence.
	for cut > 0 && (s[cut-1] == '%' || (cut > 1 && s[cut-2] == '%') || !utf8.RuneStart(s[cut])) {
		cut--
	}
	return s[:cut] + suffix
}

const hexDigits = "0123456789ABCDEF"

func escapeByte(b *strings.Builder, c byte) {
	b.WriteByte('%')
	b.WriteByte(hexDigits[c>>4])
	b.WriteByte(hexDigits[c&15])
}

// IsShortened reports whether an escaped name was cut to MaxNameLen and so
// cannot be unescaped without the listing that produced it.
func IsShortened(name string) bool {
	if len(name) < 17 || name[len(name)-17] != '~' {
		return false
	}
	_, err := hex.DecodeString(name[len(name)-16:])
	return err == nil && len(name) > MaxNameLen-20
}

// UnescapeName reverses EscapeName. ok is false for a name EscapeName could
// not have produced (a stray '%', a bad escape) and for shortened names.
func UnescapeName(name string) (raw string, ok bool) {
	switch name {
	case "%00":
		return "", true
	case "%2E":
		return ".", true
	case "%2E%2E":
		return "..", true
	case "", ".", "..":
		return "", false
	}
	if IsShortened(name) {
		return "", false
	}
	if !strings.Contains(name, "%") {
		return name, true
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		v, err := hex.DecodeString(name[i+1 : i+3])
		if err != nil {
			return "", false
		}
		b.WriteByte(v[0])
		i += 2
	}
	raw = b.String()
	if EscapeName(raw) != name {
		return "", false
	}
	return raw, true
}

// EscapePath escapes each '/'-separated component of a raw relative path.
func EscapePath(raw string) string {
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		parts[i] = EscapeName(p)
	}
	return strings.Join(parts, "/")
}

// EscapeLinkTarget shows a symlink's raw target as the mount shows names:
// each '/'-separated component escaped by EscapeName, so that a link that
// resolves among the raw names resolves among the escaped ones too
// (`link -> dir%FF/file` when the directory's raw name has byte 0xFF).
// Empty, "." and ".." components stay as they are: in a target they are
// path syntax (a leading '/', "./", "../"), not names.
func EscapeLinkTarget(raw string) string {
	parts := strings.Split(raw, "/")
	for i, p := range parts {
		switch p {
		case "", ".", "..":
		default:
			parts[i] = EscapeName(p)
		}
	}
	return strings.Join(parts, "/")
}

// CheckPath accepts a version path as sources.Entry describes it:
// relative, '/'-separated, without empty, "." or ".." components and
// without NUL (which the catalog uses as a separator); anything else
// could make a restore escape its target. The store refuses any other
// path, and sourcetest's Writer uses the same check, so a
// source that passes the suite passes the store.
func CheckPath(p string) error {
	if p == "" {
		return errors.New("empty path in version")
	}
	if !plainRel(p) {
		return fmt.Errorf("invalid path %q in version: empty, '.' or '..' component or NUL (want relative, '/'-separated, no leading or trailing '/')", p)
	}
	return nil
}

// plainRel reports whether p's components are all neither empty, "."
// nor ".." and hold no NUL. It allocates nothing: the catalog checks
// every path of every manifest it loads, and a restore every entry.
func plainRel(p string) bool {
	if strings.IndexByte(p, 0) >= 0 {
		return false
	}
	for {
		c, rest, more := strings.Cut(p, "/")
		if c == "" || c == "." || c == ".." {
			return false
		}
		if !more {
			return true
		}
		p = rest
	}
}
