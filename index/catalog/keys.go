package catalog

import (
	"bytes"
	"encoding/binary"
	mrand "math/rand/v2"
	"time"

	"github.com/zeebo/blake3"

	"github.com/stratabackup/strata/index/format"
)

// The Pebble catalog's key schema, all in this file. The catalog is a cache
// of the backend's indexes/ and versions/; nothing in it is the truth.
//
//	v <object prefix> <unix seconds, 8 bytes BE>  -> Version (JSON)
//	f <vid, 8 bytes> <dir> 0x00 <name>            -> file record (JSON format.FileRecord without path)
//	a <vid>                                       -> vid whose file records are this version's too (AddVersionAlias)
//	c <chunk id, 32 bytes>                        -> BlobLoc (45 bytes)
//	i <index name>                                -> "" (this index file is loaded)
//	m <manifest name>                             -> vid, version key (this manifest is loaded)
//	g                                             -> 8 random bytes, new at every write (the catalog's generation)
//	d <index or manifest name>                    -> Damaged (JSON): not loaded, its stored bytes are bad
//
// <object prefix> is the manifest name's directory (escaped names, '/'
// separated, trailing '/'), so versions of one object sort by time and
// all objects list by a scan of "v". Raw names of a version's files never
// contain NUL, so <dir> 0x00 separates a directory from its children and a
// prefix scan lists exactly one directory.
const (
	keyVersion  = 'v'
	keyFile     = 'f'
	keyAlias    = 'a'
	keyChunk    = 'c'
	keyIndex    = 'i'
	keyManifest = 'm'
	keyGen      = 'g'
	keyDamaged  = 'd'
)

// vid is a version's short id in the catalog: 8 bytes of the hash of its
// manifest name, stable across rebuilds.
type vid [8]byte

func versionID(manifestName string) vid {
	var v vid
	h := blake3.Sum256([]byte(manifestName))
	copy(v[:], h[:8])
	return v
}

func versionKey(o format.ObjectRef, t time.Time) []byte {
	p := format.ObjectPrefix(o)
	k := make([]byte, 0, 1+len(p)+8)
	k = append(k, keyVersion)
	k = append(k, p...)
	return binary.BigEndian.AppendUint64(k, uint64(t.Unix()))
}

func objectKeyPrefix(o format.ObjectRef) []byte {
	return append([]byte{keyVersion}, format.ObjectPrefix(o)...)
}

func fileKey(v vid, dir, name string) []byte {
	return appendFileKey(make([]byte, 0, 1+8+len(dir)+1+len(name)), v, dir, name)
}

// appendFileKey appends fileKey(v, dir, name) to k.
func appendFileKey(k []byte, v vid, dir, name string) []byte {
	k = append(k, keyFile)
	k = append(k, v[:]...)
	k = append(k, dir...)
	k = append(k, 0)
	return append(k, name...)
}

// DirBefore reports whether every file key of directory a sorts before
// those of directory b: the order in which a version's files are scanned
// (EachFileRaw, EachFileLine), directory by directory. A key has a NUL after the
// directory (fileKey), which sorts below every byte of a name, so this is
// the strings' own order ("a" < "a-b" < "a/b").
func DirBefore(a, b string) bool { return a < b }

// aliasKey marks a version that has no file records of its own: its files
// are another version's, identical to the byte (see AddVersionAlias).
func aliasKey(v vid) []byte { return append([]byte{keyAlias}, v[:]...) }

func dirPrefix(v vid, dir string) []byte { return fileKey(v, dir, "") }

func filesPrefix(v vid) []byte { return append([]byte{keyFile}, v[:]...) }

func chunkKey(id format.ID) []byte { return append([]byte{keyChunk}, id[:]...) }

func indexKey(name string) []byte { return append([]byte{keyIndex}, name...) }

func manifestKey(name string) []byte { return append([]byte{keyManifest}, name...) }

func damagedKey(name string) []byte { return append([]byte{keyDamaged}, name...) }

// genKey holds the catalog's generation: a snapshot whose generation is
// the shared catalog's holds the same data, and a refresh can keep it.
func genKey() []byte { return []byte{keyGen} }

// newGen returns a fresh generation.
func newGen() []byte { return binary.BigEndian.AppendUint64(nil, mrand.Uint64()) }

// kindPrefix is the prefix of every key of one kind (keyChunk, keyIndex...).
func kindPrefix(kind byte) []byte { return []byte{kind} }

// nameFromKey returns the backend name in an index or manifest key.
func nameFromKey(k []byte) string { return string(k[1:]) }

// versionTimeLen is the length of a version key's time, after its object
// prefix.
const versionTimeLen = 8

// isVersionKeyIn reports whether k, found by a scan of an object's key
// prefix p, is a version of exactly that object: the prefix of a nested
// table ("a" vs "a/b") also matches the deeper table's keys, which are
// longer.
func isVersionKeyIn(k, p []byte) bool { return len(k) == len(p)+versionTimeLen }

// manifestValue is what a manifest key maps to: the version's id, then its
// version key, so that dropping the manifest finds both.
func manifestValue(id vid, versionKey []byte) []byte {
	return append(append(make([]byte, 0, len(id)+len(versionKey)), id[:]...), versionKey...)
}

// parseManifestValue splits a manifestValue.
func parseManifestValue(val []byte) (id vid, versionKey []byte) {
	copy(id[:], val)
	return id, val[len(id):]
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func encodeLoc(l format.BlobLoc) []byte {
	b := make([]byte, 45)
	copy(b, l.Pack[:])
	b[32] = l.Type
	binary.BigEndian.PutUint32(b[33:], l.Offset)
	binary.BigEndian.PutUint32(b[37:], l.Length)
	binary.BigEndian.PutUint32(b[41:], l.RawLen)
	return b
}

func decodeLoc(b []byte) format.BlobLoc {
	var l format.BlobLoc
	copy(l.Pack[:], b)
	l.Type = b[32]
	l.Offset = binary.BigEndian.Uint32(b[33:])
	l.Length = binary.BigEndian.Uint32(b[37:])
	l.RawLen = binary.BigEndian.Uint32(b[41:])
	return l
}

// chunkFromKey returns the chunk id of a chunk key.
func chunkFromKey(k []byte) format.ID {
	var id format.ID
	copy(id[:], k[1:])
	return id
}

// fileFromKey returns the directory and name of a file key.
func fileFromKey(k []byte) (dir, name string) {
	rest := k[1+len(vid{}):]
	i := bytes.IndexByte(rest, 0)
	return string(rest[:i]), string(rest[i+1:])
}
