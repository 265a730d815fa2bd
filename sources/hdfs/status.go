package hdfs

import (
	"strconv"
	"strings"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/sources"
)

// HdfsFileStatusProto.FileType values.
const (
	fileTypeDir     = 1
	fileTypeFile    = 2
	fileTypeSymlink = 3
)

// flagHasACL is HdfsFileStatusProto.Flags' bit for "has an ACL".
const flagHasACL = 0x01

// Attribute keys of an entry (Entry.Attrs).
const (
	attrReplication = "hdfs.replication"
	attrBlockSize   = "hdfs.blocksize"
	attrAtime       = "hdfs.atime" // unix milliseconds
	attrACL         = "acl"        // aclspec, as hdfs dfs -setfacl takes it
	attrXAttrPrefix = "xattr."     // + namespace.name, e.g. xattr.user.comment
)

// entryType maps an HDFS file type; false for unknown ones.
func entryType(st *hdfs.FileStatus) (sources.EntryType, bool) {
	switch int32(st.GetFileType()) {
	case fileTypeDir:
		return sources.TypeDir, true
	case fileTypeFile:
		return sources.TypeFile, true
	case fileTypeSymlink:
		return sources.TypeSymlink, true
	}
	return 0, false
}

// entryOf builds the entry of rel from its status: everything but ACLs
// and extended attributes, which take calls of their own.
func entryOf(rel string, typ sources.EntryType, st *hdfs.FileStatus) sources.Entry {
	e := sources.Entry{
		Path:    rel,
		Type:    typ,
		Mode:    st.GetPermission().GetPerm() & 0o7777,
		ModTime: time.UnixMilli(int64(st.GetModificationTime())),
		Owner:   &sources.Owner{User: st.GetOwner(), Group: st.GetGroup(), UID: -1, GID: -1},
		Attrs:   map[string]string{},
	}
	if at := st.GetAccessTime(); at != 0 {
		e.Attrs[attrAtime] = strconv.FormatUint(at, 10)
	}
	switch typ {
	case sources.TypeFile:
		e.Size = int64(st.GetLength())
		e.Attrs[attrReplication] = strconv.FormatUint(uint64(st.GetBlockReplication()), 10)
		e.Attrs[attrBlockSize] = strconv.FormatUint(st.GetBlocksize(), 10)
	case sources.TypeSymlink:
		e.Target = string(st.GetSymlink())
	}
	return e
}

// fingerprint is a file's change key: length, mtime, file id and every
// block's id, generation stamp and length. Text: "v1 LEN MTIME FILEID
// ID.GS.LEN ..." (a block may carry a fourth field, its MD5, which
// summer fills in for checksum comparisons).
type fingerprint struct {
	size   int64
	mtime  uint64
	fileID uint64
	blocks []blockPrint
}

// blockPrint is one block of a fingerprint.
type blockPrint struct {
	id, gs uint64
	off, n int64
	md5    string // hex, "" when unknown
}

// fingerprintOf reads st's block list (a status listed with locations).
func fingerprintOf(st *hdfs.FileStatus) fingerprint {
	fp := fingerprint{size: int64(st.GetLength()), mtime: st.GetModificationTime(), fileID: st.GetFileId()}
	for _, b := range st.GetLocations().GetBlocks() {
		eb := b.GetB()
		fp.blocks = append(fp.blocks, blockPrint{id: eb.GetBlockId(), gs: eb.GetGenerationStamp(), off: int64(b.GetOffset()), n: int64(eb.GetNumBytes())})
	}
	return fp
}

// String is the recorded form.
func (f fingerprint) String() string {
	var b strings.Builder
	b.WriteString("v1 ")
	b.WriteString(strconv.FormatInt(f.size, 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(f.mtime, 10))
	b.WriteByte(' ')
	b.WriteString(strconv.FormatUint(f.fileID, 10))
	for _, bl := range f.blocks {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(bl.id, 10) + "." + strconv.FormatUint(bl.gs, 10) + "." + strconv.FormatInt(bl.n, 10))
		if bl.md5 != "" {
			b.WriteString("." + bl.md5)
		}
	}
	return b.String()
}

// parseFingerprint reads a recorded fingerprint; false for another
// source's or version's form.
func parseFingerprint(s string) (fingerprint, bool) {
	var f fingerprint
	parts := strings.Fields(s)
	if len(parts) < 4 || parts[0] != "v1" {
		return f, false
	}
	var err [3]error
	f.size, err[0] = strconv.ParseInt(parts[1], 10, 64)
	f.mtime, err[1] = strconv.ParseUint(parts[2], 10, 64)
	f.fileID, err[2] = strconv.ParseUint(parts[3], 10, 64)
	if err[0] != nil || err[1] != nil || err[2] != nil {
		return f, false
	}
	var off int64
	for _, p := range parts[4:] {
		bp, ok := parseBlock(p)
		if !ok {
			return f, false
		}
		bp.off = off
		off += bp.n
		f.blocks = append(f.blocks, bp)
	}
	return f, true
}

func parseBlock(p string) (blockPrint, bool) {
	var bp blockPrint
	f := strings.Split(p, ".")
	if len(f) < 3 || len(f) > 4 {
		return bp, false
	}
	var e1, e2, e3 error
	bp.id, e1 = strconv.ParseUint(f[0], 10, 64)
	bp.gs, e2 = strconv.ParseUint(f[1], 10, 64)
	bp.n, e3 = strconv.ParseInt(f[2], 10, 64)
	if len(f) == 4 {
		bp.md5 = f[3]
	}
	return bp, e1 == nil && e2 == nil && e3 == nil
}

// sameBlocks reports whether f and o are the same file with the same
// blocks: no byte was written since. Every write, append or truncate
// gives the blocks it touches a new id or generation stamp, so equal
// blocks mean equal content even when the mtime was set (touch, distcp
// -pt) since.
func (f fingerprint) sameBlocks(o fingerprint) bool {
	if f.size != o.size || f.fileID != o.fileID || len(f.blocks) != len(o.blocks) {
		return false
	}
	for i, b := range f.blocks {
		if b.id != o.blocks[i].id || b.gs != o.blocks[i].gs || b.n != o.blocks[i].n {
			return false
		}
	}
	return true
}

// keptPrefix is how many leading bytes of f are the previous version's
// prev, unchanged: the same file (id) whose leading blocks kept their id,
// generation stamp and length, plus the previous last block when it is
// the same block grown by an append (an append bumps the generation stamp
// of the block it extends, and HDFS never rewrites bytes in place; only a
// truncate followed by appends past the old length could change them, and
// it changes the mtime, which is why the prefix is used only for files
// that did not shrink).
func (f fingerprint) keptPrefix(prev fingerprint) int64 {
	if f.fileID != prev.fileID || f.size < prev.size {
		return 0
	}
	var n int64
	for i, pb := range prev.blocks {
		if i >= len(f.blocks) {
			break
		}
		cb := f.blocks[i]
		switch {
		case cb.id == pb.id && cb.gs == pb.gs && cb.n == pb.n:
			n += pb.n
			continue
		case i == len(prev.blocks)-1 && cb.id == pb.id && cb.n >= pb.n:
			n += pb.n
		}
		break
	}
	return n
}
