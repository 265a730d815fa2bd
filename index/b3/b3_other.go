//go:build !(cgo && linux && amd64)

package b3

import "github.com/zeebo/blake3"

// Sum256 returns the BLAKE3 digest of b.
func Sum256(b []byte) [Size]byte { return blake3.Sum256(b) }

// Hasher is an incremental BLAKE3 hash.
type Hasher struct{ h *blake3.Hasher }

// New returns a Hasher of the empty input.
func New() *Hasher { return &Hasher{h: blake3.New()} }

// Write adds b to the hashed input; it never fails.
func (h *Hasher) Write(b []byte) (int, error) { return h.h.Write(b) }

// Sum appends the digest of the input so far to b; the Hasher is unchanged.
func (h *Hasher) Sum(b []byte) []byte { return h.h.Sum(b) }
