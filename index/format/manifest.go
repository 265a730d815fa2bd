package format

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/stratabackup/strata/sources"
)

// Manifest is a version's record on the backend, zstd-compressed JSON.
// Paths and names are raw source bytes; JSON cannot hold invalid UTF-8, so
// strings that are not valid UTF-8 are stored in the *_b64 fields instead
// (see RawString).
type Manifest struct {
	Format   int               `json:"format"`
	Object   RawObject         `json:"object"`
	Time     time.Time         `json:"time"`
	Kind     string            `json:"kind"`
	Stats    Stats             `json:"stats"`
	Meta     map[string]string `json:"meta,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	// Root is the object's own directory (mode, mtime, owner) when the
	// source gave it; without it the root shows the version time, 0755.
	Root *FileRecord `json:"root,omitempty"`
	// Files are the entries in path order. Since format 4 they are not in
	// the manifest itself but in FileList: chunks in packs holding
	// EncodeFileList's lines, so a version whose entries did not change
	// stores no new chunks, and one with few changes only the chunks
	// around them. Files is then filled in by whoever reads FileList.
	Files    []FileRecord `json:"files,omitempty"`
	FileList chunkList    `json:"file_list,omitempty"`
	// Lines, when set, are Files' encodings in the file list (a record
	// each, path included): the catalog stores them without encoding
	// every record again.
	Lines [][]byte `json:"-"`
}

// RawObject is a manifest's object name, raw bytes.
type RawObject struct {
	Cluster  RawString `json:"cluster"`
	Database RawString `json:"database"`
	Table    RawString `json:"table"`
}

// FileRecord is one entry of a manifest.
type FileRecord struct {
	Path        RawString `json:"path"`
	Type        uint8     `json:"type"`
	Mode        uint32    `json:"mode"`
	ModTime     time.Time `json:"mtime"`
	Size        int64     `json:"size"`
	Target      RawString `json:"target,omitempty"`
	Fingerprint string    `json:"fp,omitempty"`
	Owner       *mowner   `json:"owner,omitempty"`
	Attrs       rawAttrs  `json:"attrs,omitempty"`
	HardLink    uint64    `json:"link,omitempty"`
	Nlink       uint32    `json:"nlink,omitempty"`
	Chunks      chunkList `json:"chunks,omitempty"`
}

// mowner is an entry's owner (store format 3), recorded compactly as
// [uid, gid] or [uid, gid, "user", "group"], -1 for an id the source did
// not know: every entry of a posix version carries one, and a catalog
// listing decodes one per entry, so an object with named fields cost a
// measurable share of a cold `ls -lR`. Names are raw bytes (a posix user
// name need not be UTF-8), written as RawString.
type mowner struct {
	User, Group RawString
	UID, GID    int64
}

func (m mowner) MarshalJSON() ([]byte, error) { return m.appendJSON(nil), nil }

// appendJSON appends MarshalJSON's form without allocating.
func (m *mowner) appendJSON(b []byte) []byte {
	b = append(strconv.AppendInt(append(b, '['), m.UID, 10), ',')
	b = strconv.AppendInt(b, m.GID, 10)
	if m.User != "" || m.Group != "" {
		b = m.User.appendJSON(append(b, ','))
		b = m.Group.appendJSON(append(b, ','))
	}
	return append(b, ']')
}

func (m *mowner) UnmarshalJSON(b []byte) error {
	*m = mowner{UID: -1, GID: -1}
	if m.parseFast(b) {
		return nil
	}
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil || (len(parts) != 0 && len(parts) != 2 && len(parts) != 4) {
		return fmt.Errorf("bad owner %.60s: want [uid, gid] or [uid, gid, \"user\", \"group\"]", b)
	}
	if len(parts) == 0 {
		return nil
	}
	if json.Unmarshal(parts[0], &m.UID) != nil || json.Unmarshal(parts[1], &m.GID) != nil {
		return fmt.Errorf("bad owner %.60s: ids must be integers", b)
	}
	if len(parts) == 4 {
		if err := m.User.UnmarshalJSON(parts[2]); err != nil {
			return fmt.Errorf("bad owner %.60s: %w", b, err)
		}
		return m.Group.UnmarshalJSON(parts[3])
	}
	return nil
}

// parseFast reads [uid,gid] and [uid,gid,"user","group"] as MarshalJSON
// writes them for names without escapes; anything else is left to the
// general path.
func (m *mowner) parseFast(b []byte) bool {
	if len(b) < 5 || b[0] != '[' || b[len(b)-1] != ']' || bytes.IndexByte(b, '\\') >= 0 || bytes.IndexByte(b, '{') >= 0 {
		return false
	}
	ids, names, hasNames := bytes.Cut(b[1:len(b)-1], []byte{',', '"'})
	uid, gid, ok := bytes.Cut(ids, []byte{','})
	if !ok {
		return false
	}
	var ok1, ok2 bool
	m.UID, ok1 = parseID(uid)
	m.GID, ok2 = parseID(gid)
	if !ok1 || !ok2 {
		return false
	}
	if !hasNames {
		return true
	}
	user, group, ok := bytes.Cut(names, []byte(`","`))
	if !ok || len(group) == 0 || group[len(group)-1] != '"' {
		return false
	}
	group = group[:len(group)-1]
	if bytes.IndexByte(user, '"') >= 0 || bytes.IndexByte(group, '"') >= 0 {
		return false
	}
	m.User = RawString(user)
	if bytes.Equal(user, group) { // the usual case: one string for both
		m.Group = m.User
	} else {
		m.Group = RawString(group)
	}
	return true
}

// parseID parses a decimal user or group id, -1 (none) included, without
// the string strconv would need; anything else is not ok (encoding/json
// decides then).
func parseID(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, err := parseUint(b, 63)
	if err != nil {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// rawAttrs are an entry's attributes (store format 3) as a list of
// [key, value] pairs sorted by key, not a JSON object: keys are raw bytes
// too (an extended attribute's name need not be UTF-8), and JSON object
// keys cannot carry invalid UTF-8 without loss.
type rawAttrs map[string]string

func (a rawAttrs) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([][2]RawString, len(keys))
	for i, k := range keys {
		pairs[i] = [2]RawString{RawString(k), RawString(a[k])}
	}
	return json.Marshal(pairs)
}

func (a *rawAttrs) UnmarshalJSON(b []byte) error {
	var pairs [][2]RawString
	if err := json.Unmarshal(b, &pairs); err != nil {
		return fmt.Errorf("bad attributes: want [[key, value], ...]: %w", err)
	}
	if pairs == nil {
		*a = nil
		return nil
	}
	m := make(rawAttrs, len(pairs))
	for _, p := range pairs {
		m[string(p[0])] = string(p[1])
	}
	*a = m
	return nil
}

// ownerToM records o, nil when there is nothing to record.
func ownerToM(o *sources.Owner) *mowner {
	if o == nil {
		return nil
	}
	id := func(n int64) int64 { return max(n, -1) }
	return &mowner{User: RawString(o.User), Group: RawString(o.Group), UID: id(o.UID), GID: id(o.GID)}
}

// owner is the recorded owner back as the seam has it: -1 for an id
// that was not recorded.
func (m *mowner) owner() *sources.Owner {
	if m == nil {
		return nil
	}
	return &sources.Owner{User: string(m.User), Group: string(m.Group), UID: m.UID, GID: m.GID}
}

// chunkRec is a ChunkRef as ["hex id", size] or, for an extent that does
// not start at the chunk's first byte, ["hex id", size, offset]: compact
// and readable.
type chunkRec ChunkRef

func (c chunkRec) MarshalJSON() ([]byte, error) {
	if c.Off != 0 {
		return []byte(fmt.Sprintf(`["%x",%d,%d]`, c.ID[:], c.Size, c.Off)), nil
	}
	return []byte(fmt.Sprintf(`["%x",%d]`, c.ID[:], c.Size)), nil
}

func (c *chunkRec) UnmarshalJSON(b []byte) error {
	var v []json.RawMessage
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if len(v) != 2 && len(v) != 3 {
		return fmt.Errorf("bad chunk reference %s: want [id, size] or [id, size, offset]", b)
	}
	if len(v) == 3 {
		if err := json.Unmarshal(v[2], &c.Off); err != nil {
			return fmt.Errorf("bad chunk reference %s: %w", b, err)
		}
	}
	var h string
	if err := json.Unmarshal(v[0], &h); err != nil {
		return err
	}
	id, err := hex.DecodeString(h)
	if err != nil || len(id) != 32 {
		return fmt.Errorf("bad chunk id %q", h)
	}
	copy(c.ID[:], id)
	return json.Unmarshal(v[1], &c.Size)
}

// MarshalJSON writes l as appendJSON does, so that encoding/json and the
// hand-written encoder agree.
func (l chunkList) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	return l.appendJSON(nil), nil
}

// appendJSON appends the references, each ["<hex id>",size] or
// ["<hex id>",size,off], or, where the same chunk was referenced before in
// the list, [back,size] or [back,size,off] with back the distance to the
// reference before it that names the chunk (store format 5).
func (l chunkList) appendJSON(b []byte) []byte {
	var last map[ID]int // where each chunk was referenced last
	if len(l) > 1 {
		last = make(map[ID]int, min(len(l), 1024))
	}
	b = append(b, '[')
	for i, c := range l {
		if i > 0 {
			b = append(b, ',')
		}
		if j, ok := last[c.ID]; ok {
			b = strconv.AppendUint(append(b, '['), uint64(i-j), 10)
		} else {
			b = append(hex.AppendEncode(append(b, `["`...), c.ID[:]), '"')
		}
		if last != nil {
			last[c.ID] = i
		}
		b = strconv.AppendUint(append(b, ','), uint64(c.Size), 10)
		if c.Off != 0 {
			b = strconv.AppendUint(append(b, ','), uint64(c.Off), 10)
		}
		b = append(b, ']')
	}
	return append(b, ']')
}

// chunkList is a file's references. Its decoder parses the compact forms
// by hand: a .bson file record can hold 100,000 extents, and decoding each
// through encoding/json's reflection was most of the time spent loading a
// previous version or opening a file on the mount.
type chunkList []chunkRec

func (l *chunkList) UnmarshalJSON(b []byte) error {
	p := bytes.TrimSpace(b)
	out := make(chunkList, 0, bytes.Count(p, []byte{'['})) // one more than the references
	if string(p) == "null" {
		*l = nil
		return nil
	}
	if len(p) < 2 || p[0] != '[' || p[len(p)-1] != ']' {
		return fmt.Errorf("bad chunk list: not an array")
	}
	p = bytes.TrimSpace(p[1 : len(p)-1])
	for len(p) > 0 {
		end := bytes.IndexByte(p, ']')
		if p[0] != '[' || end < 0 {
			return fmt.Errorf("bad chunk list near %.40q", p)
		}
		var c chunkRec
		if len(p) > 1 && p[1] >= '0' && p[1] <= '9' {
			if err := c.parseBack(p[:end+1], out); err != nil {
				return err
			}
		} else if !c.parseFast(p[:end+1]) {
			c = chunkRec{}
			if err := decodeChunkRec(p[:end+1], &c); err != nil {
				return err
			}
		}
		out = append(out, c)
		p = bytes.TrimSpace(p[end+1:])
		if len(p) > 0 {
			if p[0] != ',' {
				return fmt.Errorf("bad chunk list near %.40q", p)
			}
			p = bytes.TrimSpace(p[1:])
		}
	}
	*l = out
	return nil
}

// decodeChunkRec is the slow path of one reference, apart so that the
// fast paths' chunkRec stays on the stack (one allocation per reference
// otherwise).
func decodeChunkRec(b []byte, into *chunkRec) error {
	var c chunkRec
	err := c.UnmarshalJSON(b)
	*into = c
	return err
}

// parseBack parses a back reference [back,size] or [back,size,off]: the
// chunk of the reference back places before it in out. Spellings other
// than the plain one written here (spaces) go through encoding/json.
func (c *chunkRec) parseBack(b []byte, out chunkList) error {
	var p [3]uint32
	k, ok := plainNums(b[1:len(b)-1], p[:])
	if !ok {
		var v []uint32
		if err := json.Unmarshal(b, &v); err != nil || len(v) > len(p) {
			return fmt.Errorf("bad chunk reference %.40q: want [back, size] or [back, size, offset]", b)
		}
		k = copy(p[:], v)
	}
	switch {
	case k < 2:
		return fmt.Errorf("bad chunk reference %.40q: want [back, size] or [back, size, offset]", b)
	case p[0] == 0 || int(p[0]) > len(out):
		return fmt.Errorf("bad chunk reference %.40q: %d references back, %d before it", b, p[0], len(out))
	}
	*c = chunkRec{ID: out[len(out)-int(p[0])].ID, Size: p[1], Off: p[2]}
	return nil
}

// parseFast parses exactly ["<64 hex>",<size>] or ["<64 hex>",<size>,<off>]
// as MarshalJSON writes them; anything else is left to UnmarshalJSON.
func (c *chunkRec) parseFast(b []byte) bool {
	if len(b) < 70 || string(b[:2]) != `["` || b[66] != '"' || b[67] != ',' {
		return false
	}
	if _, err := hex.Decode(c.ID[:], b[2:66]); err != nil {
		return false
	}
	var v [2]uint32
	n, ok := plainNums(b[68:len(b)-1], v[:])
	if !ok || n == 0 {
		return false
	}
	c.Size, c.Off = v[0], v[1]
	return true
}

// plainNums parses comma-separated decimal numbers below 2^32, written
// plainly (no spaces, signs or leading zeros), into v: how many, and false
// for anything else or more than len(v). A list of 670,000 references
// parsed through bytes.Split and strconv took 0.3 s.
func plainNums(b []byte, v []uint32) (int, bool) {
	n := 0
	for len(b) > 0 {
		if n == len(v) {
			return 0, false
		}
		end := bytes.IndexByte(b, ',')
		if end < 0 {
			end = len(b)
		}
		x, err := parseUint(b[:end], 32)
		if err != nil {
			return 0, false
		}
		v[n] = uint32(x)
		n++
		if end == len(b) {
			break
		}
		b = b[end+1:]
		if len(b) == 0 {
			return 0, false // a trailing comma
		}
	}
	return n, true
}

// RawString holds arbitrary bytes in JSON: valid UTF-8 as a plain string,
// anything else as {"b64": "..."}.
type RawString string

func (r RawString) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(r)) {
		return json.Marshal(string(r))
	}
	return json.Marshal(map[string][]byte{"b64": []byte(r)})
}

// appendJSON appends r as MarshalJSON writes it; strings that need no
// escaping (most names) are copied as they are.
func (r RawString) appendJSON(b []byte) []byte {
	plain := true
	for i := 0; i < len(r); i++ {
		if c := r[i]; c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return append(append(append(b, '"'), r...), '"')
	}
	j, err := r.MarshalJSON()
	if err != nil { // cannot happen: RawString always encodes
		panic(err)
	}
	return append(b, j...)
}

func (r *RawString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var m map[string][]byte
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		*r = RawString(m["b64"])
		return nil
	}
	// Fast path: a quoted string without escapes is its own bytes. Names
	// rarely need escapes, and a catalog listing decodes several strings
	// per entry; a nested json.Unmarshal each was a fifth of `ls -lR`.
	if n := len(b); n >= 2 && b[0] == '"' && b[n-1] == '"' && bytes.IndexByte(b[1:n-1], '\\') < 0 && bytes.IndexByte(b[1:n-1], '"') < 0 {
		*r = RawString(b[1 : n-1])
		return nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	*r = RawString(s)
	return err
}

// FileListChunkerParams cut a version's encoded file list: smaller than
// file data's chunks, so that a change to a few entries costs a few small
// chunks, not a megabyte.
func FileListChunkerParams(seed uint64) ChunkerParams {
	return ChunkerParams{Min: 16 << 10, Avg: 64 << 10, Max: 256 << 10, Seed: seed}
}

// EncodeFileList is a file list as stored in FileList's chunks: one JSON
// record per line, in the order given (path order), so that equal
// entries encode to equal bytes in every version. lines are the records'
// encodings (sub-slices of data), which the catalog stores as they are.
// A backup does not hold its list whole: it writes each entry's
// AppendLine and a newline as it streams the list (index/listruns.go).
func EncodeFileList(files []FileRecord) (data []byte, lines [][]byte, err error) {
	ends := make([]int, len(files))
	for i := range files {
		if data, err = files[i].AppendLine(data); err != nil {
			return nil, nil, fmt.Errorf("encode file list entry %q: %w", files[i].Path, err)
		}
		ends[i] = len(data)
		data = append(data, '\n')
	}
	lines = make([][]byte, len(files))
	start := 0
	for i, end := range ends {
		lines[i] = data[start:end:end]
		start = end + 1
	}
	return data, lines, nil
}

// AppendLine appends m's line in a stored file list (without the
// newline), as EncodeFileList writes it: a backup encodes each entry as
// it is added, so that it need not hold the entry until the end.
func (m *FileRecord) AppendLine(b []byte) ([]byte, error) { return m.appendJSON(b) }

// appendJSON appends m as encoding/json would write it (the same fields,
// names and forms), without reflection: every backup encodes its whole
// file list, and reflection made that a second per 80,000 files.
func (m *FileRecord) appendJSON(b []byte) ([]byte, error) {
	b, err := m.appendHead(b)
	if err != nil {
		return nil, err
	}
	if len(m.Chunks) > 0 {
		b = m.Chunks.appendJSON(append(b, `,"chunks":`...))
	}
	return append(b, '}'), nil
}

// appendHead appends m's line up to its chunks: everything but them and
// the closing brace.
func (m *FileRecord) appendHead(b []byte) ([]byte, error) {
	b = append(b, `{"path":`...)
	b = m.Path.appendJSON(b)
	b = append(b, `,"type":`...)
	b = strconv.AppendUint(b, uint64(m.Type), 10)
	b = append(b, `,"mode":`...)
	b = strconv.AppendUint(b, uint64(m.Mode), 10)
	b = append(b, `,"mtime":"`...)
	b = append(m.ModTime.AppendFormat(b, time.RFC3339Nano), `","size":`...)
	b = strconv.AppendInt(b, m.Size, 10)
	if m.Target != "" {
		b = m.Target.appendJSON(append(b, `,"target":`...))
	}
	if m.Fingerprint != "" {
		b = RawString(m.Fingerprint).appendJSON(append(b, `,"fp":`...))
	}
	if m.Owner != nil {
		b = m.Owner.appendJSON(append(b, `,"owner":`...))
	}
	if len(m.Attrs) > 0 {
		j, err := m.Attrs.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(append(b, `,"attrs":`...), j...)
	}
	if m.HardLink != 0 {
		b = strconv.AppendUint(append(b, `,"link":`...), m.HardLink, 10)
	}
	if m.Nlink != 0 {
		b = strconv.AppendUint(append(b, `,"nlink":`...), uint64(m.Nlink), 10)
	}
	return b, nil
}

// DecodeFileList parses EncodeFileList's output, returning the records
// and each one's encoding.
func DecodeFileList(data []byte) ([]FileRecord, [][]byte, error) {
	var out []FileRecord
	var lines [][]byte
	for n := 1; len(data) > 0; n++ {
		line, rest, _ := bytes.Cut(data, []byte{'\n'})
		data = rest
		var f FileRecord
		if err := DecodeFileRecord(line, &f); err != nil {
			return nil, nil, fmt.Errorf("file list line %d: %w", n, err)
		}
		out = append(out, f)
		lines = append(lines, line)
	}
	return out, lines, nil
}

// Refs are the chunks of a file list, as the seam's references.
func (l chunkList) Refs() []ChunkRef {
	if len(l) == 0 {
		return nil
	}
	out := make([]ChunkRef, len(l))
	for i, c := range l {
		out[i] = ChunkRef(c)
	}
	return out
}

// FileListRefs records refs as a manifest's FileList.
func FileListRefs(refs []ChunkRef) chunkList {
	out := make(chunkList, len(refs))
	for i, c := range refs {
		out[i] = chunkRec(c)
	}
	return out
}

// ToFileRecord is f as a manifest records it.
func ToFileRecord(f File) FileRecord {
	m := FileRecord{Path: RawString(f.Path), Type: uint8(f.Type), Mode: f.Mode, ModTime: f.ModTime.UTC(), Size: f.Size, Target: RawString(f.Target), Fingerprint: f.Fingerprint, Owner: ownerToM(f.Owner), HardLink: f.HardLink, Nlink: f.Nlink}
	if len(f.Attrs) > 0 {
		m.Attrs = rawAttrs(f.Attrs)
	}
	m.Chunks = make(chunkList, len(f.Chunks))
	for i, c := range f.Chunks {
		m.Chunks[i] = chunkRec(c)
	}
	return m
}

// File is the entry back as readers use it.
func (m FileRecord) File() File {
	f := File{Entry: sources.Entry{Path: string(m.Path), Type: sources.EntryType(m.Type), Mode: m.Mode, ModTime: m.ModTime, Size: m.Size, Target: string(m.Target), Fingerprint: m.Fingerprint, Owner: m.Owner.owner(), HardLink: m.HardLink, Nlink: m.Nlink}}
	if len(m.Attrs) > 0 {
		f.Attrs = map[string]string(m.Attrs)
	}
	f.Chunks = make([]ChunkRef, len(m.Chunks))
	for i, c := range m.Chunks {
		f.Chunks[i] = ChunkRef(c)
	}
	return f
}

// VersionName is the manifest's backend name:
// versions/<cluster>/<db>/<table components...>/<time>, each component
// escaped with sources.EscapeName.
func VersionName(o ObjectRef, t time.Time) string {
	return ObjectPrefix(o) + TimeName(t)
}

// ObjectPrefix is the backend prefix of an object's manifests.
func ObjectPrefix(o ObjectRef) string {
	return "versions/" + sources.EscapeName(o.Cluster) + "/" + sources.EscapeName(o.Database) + "/" + sources.EscapePath(o.Table) + "/"
}
