//go:build !linux

package backends

// readDirect has no O_DIRECT here: ReadAround reads through the cache.
func readDirect(string, int64, int) ([]byte, error) { return nil, errDirectRefused }
