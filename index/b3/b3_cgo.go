//go:build cgo && linux && amd64

package b3

/*
#cgo CFLAGS: -O3 -DBLAKE3_NO_SSE2 -DBLAKE3_NO_SSE41
#include "blake3.h"

// b3_sum hashes in one call, the hasher on C's stack: one cgo crossing.
static void b3_sum(const void *p, size_t n, uint8_t *out) {
	blake3_hasher h;
	blake3_hasher_init(&h);
	blake3_hasher_update(&h, p, n);
	blake3_hasher_finalize(&h, out, BLAKE3_OUT_LEN);
}
*/
import "C"

import (
	"unsafe"

	"github.com/zeebo/blake3"
)

// Sum256 returns the BLAKE3 digest of b.
func Sum256(b []byte) [Size]byte {
	if len(b) < cMin {
		return blake3.Sum256(b)
	}
	return sumC(b)
}

// sumC hashes a non-empty b in C.
func sumC(b []byte) (out [Size]byte) {
	C.b3_sum(unsafe.Pointer(&b[0]), C.size_t(len(b)), (*C.uint8_t)(unsafe.Pointer(&out[0])))
	return out
}

// Hasher is an incremental BLAKE3 hash. Its state (about 1.9 KB, no Go
// pointers in it) lives in Go memory and is passed to C on each Write.
type Hasher struct {
	c C.blake3_hasher
}

// New returns a Hasher of the empty input.
func New() *Hasher {
	h := new(Hasher)
	C.blake3_hasher_init(&h.c)
	return h
}

// Write adds b to the hashed input; it never fails.
func (h *Hasher) Write(b []byte) (int, error) {
	if len(b) > 0 {
		C.blake3_hasher_update(&h.c, unsafe.Pointer(&b[0]), C.size_t(len(b)))
	}
	return len(b), nil
}

// Sum appends the digest of the input so far to b; the Hasher is unchanged.
func (h *Hasher) Sum(b []byte) []byte {
	var out [Size]byte
	C.blake3_hasher_finalize(&h.c, (*C.uint8_t)(unsafe.Pointer(&out[0])), Size)
	return append(b, out[:]...)
}
