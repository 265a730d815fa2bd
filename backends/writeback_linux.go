package backends

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's dirty pages to disk
// now, without waiting for them. A pack committed without fsync (Sync
// makes it durable later) otherwise stays in the page cache until Sync:
// the kernel starts background writeback only at 10% of memory dirty or
// after 30 s, so every pack of a backup was written at its end, inside
// the final Sync, while the disk had been idle for the writes. A hint:
// failures are ignored, Sync still makes the file durable.
func startWriteback(f *os.File) {
	_ = unix.SyncFileRange(int(f.Fd()), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
}
