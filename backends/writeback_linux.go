package backends

import "golang.org/x/sys/unix"

// startWriteback asks the kernel to start writing the file at p to disk
// now, without waiting for it. An object published without fsync (Sync
// makes it durable later) otherwise stays in the page cache until Sync:
// the kernel starts background writeback only at 10% of memory dirty or
// after 30 s, so every pack of a backup was written at its end, inside
// the final Sync, while the disk had been idle for the writes. A hint:
// failures are ignored, Sync still makes the file durable.
func startWriteback(p string) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	_ = unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	unix.Close(fd)
}
