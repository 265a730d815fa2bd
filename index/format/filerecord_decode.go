package format

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
		key := string(p[1 : end+1])
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
// it cannot tell.
func valueLen(p []byte) int {
	depth, inStr := 0, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case inStr:
			if c == '\\' {
				i++
			} else if c == '"' {
				inStr = false
				if depth == 0 {
					return i + 1
				}
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				return i + 1
			}
			if depth < 0 {
				return 0
			}
		case c == ',' && depth == 0:
			return i
		}
	}
	if depth == 0 && !inStr {
		return len(p)
	}
	return 0
}

func decodeField(m *FileRecord, key string, v []byte) error {
	if string(v) == "null" {
		return errSlow
	}
	switch key {
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
		n, err := strconv.ParseUint(string(v), 10, 8)
		m.Type = uint8(n)
		return err
	case "mode":
		n, err := strconv.ParseUint(string(v), 10, 32)
		m.Mode = uint32(n)
		return err
	case "size":
		n, err := strconv.ParseInt(string(v), 10, 64)
		m.Size = n
		return err
	case "link":
		n, err := strconv.ParseUint(string(v), 10, 64)
		m.HardLink = n
		return err
	case "nlink":
		n, err := strconv.ParseUint(string(v), 10, 32)
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
