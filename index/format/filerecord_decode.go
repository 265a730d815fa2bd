package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DecodeFileRecord parses one record as encoding/json would into m, by
// hand for the forms FileRecord's encoder writes: a backup loads its
// previous version and a restore or a listing their entries record by
// record, and reflection was most of that time. Anything unusual (an
// unknown key, a null, whitespace) goes to encoding/json.
func DecodeFileRecord(b []byte, m *FileRecord) error {
	*m = FileRecord{}
	if fastDecode(b, m) {
		return nil
	}
	*m = FileRecord{}
	return json.Unmarshal(b, m)
}

var errSlow = errors.New("not the fast form")

// fastDecode reports whether b was parsed completely by the fast path.
func fastDecode(b []byte, m *FileRecord) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	p := b[1 : len(b)-1]
	for len(p) > 0 {
		if p[0] != '"' {
			return false
		}
		end := bytes.IndexByte(p[1:], '"')
		if end < 0 || len(p) < end+3 || p[end+2] != ':' {
			return false
		}
		key := p[1 : end+1]
		p = p[end+3:]
		n := valueLen(p)
		if n <= 0 {
			return false
		}
		if decodeField(m, key, p[:n]) != nil {
			return false
		}
		p = p[n:]
		if len(p) > 0 {
			if p[0] != ',' {
				return false
			}
			p = p[1:]
		}
	}
	return true
}

// valueLen is the length of the JSON value at the start of p (a string,
// a number, or an array or object without whitespace concerns), 0 when
// it cannot tell. Strings are skipped with IndexByte rather than byte by
// byte: paths and chunk ids are most of a record.
func valueLen(p []byte) int {
	depth := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '"':
			n := stringLen(p[i:])
			if n == 0 {
				return 0
			}
			if depth == 0 {
				return i + n
			}
			i += n - 1
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return 0
			}
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	if depth == 0 {
		return len(p)
	}
	return 0
}

// stringLen is the length of the JSON string that starts p, quotes
// included, 0 when it does not end.
func stringLen(p []byte) int {
	for i := 1; ; {
		j := bytes.IndexByte(p[i:], '"')
		if j < 0 {
			return 0
		}
		q := i + j
		escapes := 0
		for b := q - 1; b > 0 && p[b] == '\\'; b-- {
			escapes++
		}
		if escapes%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

func decodeField(m *FileRecord, key, v []byte) error {
	if string(v) == "null" {
		return errSlow
	}
	switch string(key) {
	case "path":
		return m.Path.UnmarshalJSON(v)
	case "target":
		return m.Target.UnmarshalJSON(v)
	case "fp":
		var s RawString
		err := s.UnmarshalJSON(v)
		m.Fingerprint = string(s)
		return err
	case "type":
		n, err := parseUint(v, 8)
		m.Type = uint8(n)
		return err
	case "mode":
		n, err := parseUint(v, 32)
		m.Mode = uint32(n)
		return err
	case "size":
		n, err := parseUint(v, 63) // sizes are never negative
		m.Size = int64(n)
		return err
	case "link":
		n, err := parseUint(v, 64)
		m.HardLink = n
		return err
	case "nlink":
		n, err := parseUint(v, 32)
		m.Nlink = uint32(n)
		return err
	case "mtime":
		if len(v) < 2 || v[0] != '"' || bytes.IndexByte(v, '\\') >= 0 {
			return errSlow
		}
		t, err := time.Parse(time.RFC3339Nano, string(v[1:len(v)-1]))
		m.ModTime = t
		return err
	case "owner":
		m.Owner = &mowner{}
		return m.Owner.UnmarshalJSON(v)
	case "attrs":
		return m.Attrs.UnmarshalJSON(v)
	case "chunks":
		return m.Chunks.UnmarshalJSON(v)
	}
	return fmt.Errorf("%w: key %q", errSlow, key)
}

// parseUint parses the decimal digits of v into an unsigned number of at
// most bits bits, without the string that strconv would allocate per
// field; anything else (a sign, an exponent, an overflow) is errSlow, so
// encoding/json decides.
func parseUint(v []byte, bits uint) (uint64, error) {
	if len(v) == 0 || len(v) > 20 || (len(v) > 1 && v[0] == '0') {
		return 0, errSlow
	}
	var n uint64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, errSlow
		}
		d := uint64(c - '0')
		if n > (1<<64-1-d)/10 {
			return 0, errSlow
		}
		n = n*10 + d
	}
	if bits < 64 && n >= 1<<bits {
		return 0, errSlow
	}
	return n, nil
}
