package fs

import "github.com/hanwen/go-fuse/v2/fuse"

// negativeEntries lets a node choose how long the kernel remembers a
// miss. go-fuse applies one NegativeTimeout to the whole mount; a node
// that sets an entry timeout and returns ENOENT (see missing) gets a
// negative entry of that lifetime instead (FUSE: success with node id 0).
// Misses inside versions are thus cached for an hour, misses above them
// for a second.
type negativeEntries struct {
	fuse.RawFileSystem
}

// Lookup turns an ENOENT with an entry timeout into a negative entry.
func (n negativeEntries) Lookup(cancel <-chan struct{}, header *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	st := n.RawFileSystem.Lookup(cancel, header, name, out)
	if st == fuse.ENOENT && out.EntryTimeout() > 0 {
		out.NodeId = 0
		return fuse.OK
	}
	return st
}
