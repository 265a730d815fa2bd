package posix

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
)

// entryFromStat builds the entry of rel from its (l)stat result, owner
// included (restore as root and the mount show it). Attrs stay empty:
// extended attributes and ACLs are not read yet.
func entryFromStat(rel string, typ sources.EntryType, st *unix.Stat_t) sources.Entry {
	fp := ""
	if typ == sources.TypeFile {
		fp = fingerprint(st)
	}
	return entryWith(rel, typ, st, fp)
}

// entryWith is entryFromStat with the fingerprint of a file given (a
// kept file's is the previous entry's string, not a new one).
func entryWith(rel string, typ sources.EntryType, st *unix.Stat_t, fp string) sources.Entry {
	e := sources.Entry{
		Path:    rel,
		Type:    typ,
		Mode:    st.Mode & 0o7777,
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec),
		Owner:   ownerOf(st),
	}
	if typ == sources.TypeFile {
		e.Size = st.Size
		e.Fingerprint = fp
		if st.Nlink > 1 {
			e.HardLink = hardLinkID(st)
			e.Nlink = uint32(min(st.Nlink, 1<<32-1))
		}
	}
	return e
}

// fingerprint is a file's change key: size, mtime and ctime in nanoseconds,
// and inode number, as restic uses. Size and mtime alone miss two common
// cases: a file replaced by rename (an editor's or a database's atomic
// save) with the same size and a copied mtime, caught by the inode; and
// content rewritten with the mtime set back (tar, rsync -t, touch -d),
// caught by ctime, which no one can set. The price of ctime is that chmod
// or chown make the file be read again, which dedup makes cheap. The device
// number is left out: it can change across remounts and reboots, which
// would make every file look changed.
func fingerprint(st *unix.Stat_t) string {
	return string(appendFingerprint(make([]byte, 0, 64), st))
}

// appendFingerprint appends st's fingerprint to b: the walk compares it
// with the previous entry's from a buffer on its stack, without a string
// per file.
func appendFingerprint(b []byte, st *unix.Stat_t) []byte {
	b = strconv.AppendInt(b, st.Size, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, st.Mtim.Nano(), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, st.Ino, 10)
	b = append(b, ':')
	return strconv.AppendInt(b, st.Ctim.Nano(), 10)
}

// rootEntry is the object's root directory (the empty path).
func rootEntry(st *unix.Stat_t) sources.Entry {
	return sources.Entry{Type: sources.TypeDir, Mode: st.Mode & 0o7777,
		ModTime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec), Owner: ownerOf(st)}
}

// hardLinkID is the same for every name of one file (device and inode),
// never zero.
func hardLinkID(st *unix.Stat_t) uint64 {
	return (st.Ino*0x9E3779B97F4A7C15 ^ st.Dev) | 1
}

// typeName names a file type for warnings.
func typeName(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFSOCK:
		return "socket"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFBLK:
		return "block device"
	}
	return "file of unknown type " + strconv.FormatUint(uint64(mode&unix.S_IFMT), 8)
}
