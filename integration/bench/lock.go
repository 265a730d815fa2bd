package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockCache takes an exclusive lock on the cache directory for the whole
// run: two benchmarks on one cache spoil each other (one's prepare step
// removes the other's repositories and restore targets), so the second
// one stops at once and says why. The kernel drops the lock when the
// process ends, however it ends.
func lockCache(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache %s: %w", dir, err)
	}
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open cache lock %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("cache %s is in use by another benchmark (lock %s held); wait for it or give another -cache", dir, path)
		}
		return nil, fmt.Errorf("lock cache %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
