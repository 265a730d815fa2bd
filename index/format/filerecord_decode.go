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
		if t, ok := parseUTC(v[1 : len(v)-1]); ok {
			m.ModTime = t
			return nil
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

// parseUTC parses the form the encoder writes for a UTC time,
// 2006-01-02T15:04:05[.fraction]Z, into what time.Parse(RFC3339Nano)
// returns for it; anything else (an offset, a field out of range, a
// fraction longer than nine digits) is not ok, and time.Parse decides.
// time.Parse was a tenth of decoding a record, every entry of a listing
// or a previous version.
func parseUTC(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[len(b)-1] != 'Z' || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	num := func(p []byte) (int, bool) {
		n := 0
		for _, c := range p {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	if day > 28 && day > daysIn(time.Month(month), year) {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for range 10 - len(frac) {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// daysIn is the number of days of month in year.
func daysIn(month time.Month, year int) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
