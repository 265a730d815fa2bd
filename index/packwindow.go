package index

import (
	"context"
	"fmt"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
)

// Small blobs on local disk are read in aligned windows of their pack,
// kept for the next reads: a version's small files sit next to each other
// in its packs, in about the order a walk of the version meets them, so
// one 256 KiB read serves the dozens of files a `tar` or `cp -r` of the
// mount asks for next, where each used to cost its own cold disk read.
//
// "About" is a few tens of MB: a backup's workers finish files out of
// order and large files' blobs sit between small ones, so the windows of
// a directory's files are spread over a stretch of their pack. A cold
// `tar` of the kernel source tree (78,669 files, 1,116 distinct windows)
// filled 4,046 windows with a 16 MiB cache; replaying its window accesses
// through an LRU of other sizes gave 2,176 fills at 32 MiB and 1,211 at
// 48 MiB: 1.0 GB of reads and garbage against 0.3 GB.
const (
	windowSize    = 256 << 10
	windowMaxBlob = 64 << 10 // larger blobs are read exactly
	windowsBytes  = 48 << 20 // the cache of windows
)

type windowKey struct {
	pack format.ID
	off  int64
}

type windowCache = lruFlight[windowKey, []byte]

func newWindowCache() *windowCache {
	return newLRUFlight(cost{mem: windowsBytes}, func(_ windowKey, b []byte) cost { return cost{mem: int64(cap(b))} }, nil)
}

// readBlob reads a blob's stored bytes: through a window when rd.windows
// is set, it is small and the backend is local, in one local read (around
// the page cache when rd.direct is set and it is larger than a window's
// blobs) when local, else by Get. A borrowed blob is part of a cached
// window: read it now, keep none of it (copying it for every compressed
// chunk only made garbage, a fifth of a mount's in a tar of a source
// tree).
func (s *Store) readBlob(ctx context.Context, loc format.BlobLoc, rd chunkReads) (b []byte, borrowed bool, err error) {
	name := format.PackName(loc.Pack)
	off, n := int64(loc.Offset), int64(loc.Length)
	lr, local := s.be.(backends.LocalReader)
	if !local {
		b, err := format.ReadRange(ctx, s.be, name, off, n)
		return b, false, err
	}
	start := off &^ (windowSize - 1)
	if rd.windows && n <= windowMaxBlob && off+n <= start+windowSize {
		w, err := s.windows.get(ctx, windowKey{loc.Pack, start}, func() ([]byte, error) {
			b, ok, err := lr.ReadUpTo(ctx, name, start, windowSize)
			if err == nil && !ok {
				return nil, errNotLocal
			}
			return b, err
		})
		if err == nil {
			b, err := sliceOf(w, name, off-start, n)
			return b, true, err
		}
		if err != errNotLocal {
			return nil, false, err
		}
	}
	read := lr.ReadUpTo
	if rd.direct && n > windowMaxBlob {
		read = lr.ReadAround
	}
	b, ok, err := read(ctx, name, off, int(n))
	if err != nil {
		return nil, false, err
	}
	if !ok {
		b, err := format.ReadRange(ctx, s.be, name, off, n)
		return b, false, err
	}
	b, err = sliceOf(b, name, 0, n)
	return b, false, err
}

// errNotLocal says a LocalReader's backend is not on local disk after all.
var errNotLocal = fmt.Errorf("not a local backend")

// sliceOf returns n bytes of b from i, or an error naming the pack when
// the pack ends before them.
func sliceOf(b []byte, name string, i, n int64) ([]byte, error) {
	if int64(len(b)) < i+n {
		return nil, fmt.Errorf("read %s: the pack ends before the blob's end (%w)", name, ErrCorrupt)
	}
	return b[i : i+n : i+n], nil
}
