package hdfs

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// TestPrefetch reads files of sizes around the read-ahead buffer through
// prefetch, whole and closed early, and checks the bytes.
func TestPrefetch(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		stop int // bytes read before Close; -1: all
	}{
		{"empty", 0, -1},
		{"small", 1000, -1},
		{"one buffer", prefetchBuf, -1},
		{"one buffer and a byte", prefetchBuf + 1, -1},
		{"many buffers", 9*prefetchBuf + 12345, -1},
		{"closed early", 9*prefetchBuf + 12345, prefetchBuf + 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := content(tc.name, tc.size)
			r := prefetch(context.Background(), bytes.NewReader(data), int64(tc.size), 4)
			var got []byte
			var err error
			if tc.stop < 0 {
				got, err = io.ReadAll(r)
			} else {
				got = make([]byte, tc.stop)
				_, err = io.ReadFull(r, got)
				data = data[:tc.stop]
			}
			if err != nil {
				t.Fatal(err)
			}
			if cerr := r.Close(); cerr != nil {
				t.Fatal(cerr)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("read %d bytes, want the source's %d", len(got), len(data))
			}
		})
	}
}
