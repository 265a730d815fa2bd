// Package backendtest is the conformance suite every backends.Backend must
// pass: the store relies on these behaviours (atomic Put, exact ranged
// reads, ErrNotFound, prefix listing) whatever the storage underneath.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stratabackup/strata/backends"
)

// Run runs every conformance test against b as subtests. b should be empty
// or at least hold nothing under "conformance/"; Run deletes what it writes.
func Run(t *testing.T, b backends.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, backends.Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"RangedGet", testRangedGet},
		{"Overwrite", testOverwrite},
		{"List", testList},
		{"ListStops", testListStops},
		{"Stat", testStat},
		{"Delete", testDelete},
		{"NotFound", testNotFound},
		{"ConcurrentPuts", testConcurrentPuts},
		{"CancelledPut", testCancelledPut},
		{"InterruptedPut", testInterruptedPut},
		{"Location", testLocation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// root is the prefix under which the suite writes.
const root = "conformance/"

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16)})
	data := make([]byte, n)
	_, _ = r.Read(data)
	return data
}

// put writes data and fails the test on error; the object is deleted when
// the test ends.
func put(t *testing.T, b backends.Backend, name string, data []byte) {
	t.Helper()
	if err := b.Put(context.Background(), name, data); err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
	t.Cleanup(func() { _ = b.Delete(context.Background(), name) })
}

// get reads a range and fails the test on error.
func get(t *testing.T, b backends.Backend, name string, off, length int64) []byte {
	t.Helper()
	rc, err := b.Get(context.Background(), name, off, length)
	if err != nil {
		t.Fatalf("get %s [%d,+%d]: %v", name, off, length, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s [%d,+%d]: %v", name, off, length, err)
	}
	return data
}

// listAll returns the objects under prefix by name.
func listAll(t *testing.T, b backends.Backend, prefix string) map[string]backends.ObjectInfo {
	t.Helper()
	got := map[string]backends.ObjectInfo{}
	err := b.List(context.Background(), prefix, func(oi backends.ObjectInfo) error {
		if _, dup := got[oi.Name]; dup {
			t.Errorf("list %s: %s listed twice", prefix, oi.Name)
		}
		got[oi.Name] = oi
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", prefix, err)
	}
	return got
}

// wantNotFound checks that err is ErrNotFound and names the object.
func wantNotFound(t *testing.T, op, name string, err error) {
	t.Helper()
	if !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("%s %s: got %v, want ErrNotFound", op, name, err)
		return
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("%s %s: error %q does not name the object", op, name, err)
	}
}

// equal reports a difference between two byte slices without dumping them.
func equal(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got %d bytes, want %d bytes (equal lengths: %v)", what, len(got), len(want), len(got) == len(want))
	}
}
