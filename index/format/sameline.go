package format

import (
	"bytes"

	"github.com/stratabackup/strata/sources"
)

// SameLine reports whether line, a stored file list line, records e
// exactly: its head (every field but the chunks) is the head of the line
// ToFileRecord and AppendLine would write for e. It returns the line's
// chunk list then (`[...]`, nil for a file without chunks). A re-backup
// checks an unchanged file so, without decoding the previous line:
// decoding it (the path, owner, fingerprint and chunk list, each
// allocated) was 1.9 µs per file, and the largest share of a no-change
// re-backup's own CPU. scratch is working space, returned for reuse.
func SameLine(line []byte, e *sources.Entry, scratch []byte) (chunks []byte, same bool, _ []byte) {
	m := ToFileRecord(File{Entry: *e})
	head, err := m.appendHead(scratch[:0])
	if err != nil || !bytes.HasPrefix(line, head) {
		return nil, false, head
	}
	rest := line[len(head):]
	const key = `,"chunks":[`
	switch {
	case len(rest) == 1 && rest[0] == '}':
		return nil, true, head
	case len(rest) > len(key)+1 && string(rest[:len(key)]) == key && rest[len(rest)-1] == '}':
		return rest[len(key)-1 : len(rest)-1], true, head
	}
	return nil, false, head
}

// AppendChunkIDs appends the chunks a line's chunk list (as SameLine
// returns it) names, each once, their IDs and sizes only (offsets and
// back references, which name a chunk again, are left out); false when
// the list is not in the form lines are written in.
func AppendChunkIDs(dst []ChunkRef, list []byte) ([]ChunkRef, bool) {
	if len(list) < 2 || list[0] != '[' || list[len(list)-1] != ']' {
		return dst, false
	}
	p := list[1 : len(list)-1]
	for len(p) > 0 {
		end := bytes.IndexByte(p, ']')
		if end < 0 || p[0] != '[' {
			return dst, false
		}
		ref := p[:end+1]
		if len(ref) > 1 && ref[1] >= '0' && ref[1] <= '9' {
			// a back reference: the chunk was named before
		} else {
			var c chunkRec
			if !c.parseFast(ref) {
				return dst, false
			}
			dst = append(dst, ChunkRef{ID: c.ID, Size: c.Size})
		}
		p = p[end+1:]
		if len(p) > 0 {
			if p[0] != ',' {
				return dst, false
			}
			p = p[1:]
		}
	}
	return dst, true
}
