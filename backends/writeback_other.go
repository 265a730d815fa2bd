//go:build !linux

package backends

// startWriteback is a no-op where sync_file_range(2) does not exist: Sync
// writes the file when it is called.
func startWriteback(string) {}
