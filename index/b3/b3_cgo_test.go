//go:build cgo && linux && amd64

package b3

import (
	"testing"

	"github.com/zeebo/blake3"
)

// BenchmarkC_1KiB and BenchmarkGo_1KiB are why cMin is above one BLAKE3
// chunk: at 1 KiB the C code has nothing to hash side by side and the cgo
// call makes it the slower.
func BenchmarkC_1KiB(b *testing.B)  { benchSum(b, 1<<10, sumC) }
func BenchmarkGo_1KiB(b *testing.B) { benchSum(b, 1<<10, blake3.Sum256) }
