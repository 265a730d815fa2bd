package b3

import (
	"crypto/rand"
	"testing"

	"github.com/zeebo/blake3"
)

// TestMatchesGo checks the C code against the Go package at sizes around
// BLAKE3's 1 KiB chunks, the SIMD batch widths and cMin.
func TestMatchesGo(t *testing.T) {
	buf := make([]byte, 5<<20+17)
	if _, err := rand.Read(buf); err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 63, 64, 65, 1023, 1024, 1025, cMin - 1, cMin, cMin + 1, 4096, 8191, 16 << 10, 64<<10 + 3, 1 << 20, len(buf)}
	for _, n := range sizes {
		want := blake3.Sum256(buf[:n])
		if got := Sum256(buf[:n]); got != want {
			t.Errorf("Sum256 of %d bytes = %x, want %x", n, got, want)
		}
		h := New()
		for off := 0; off < n; {
			step := min(n-off, 1+off%5000) // uneven writes
			_, _ = h.Write(buf[off : off+step])
			off += step
		}
		if got := h.Sum(nil); string(got) != string(want[:]) {
			t.Errorf("Hasher of %d bytes = %x, want %x", n, got, want)
		}
		if got := h.Sum(nil); string(got) != string(want[:]) {
			t.Errorf("second Sum of %d bytes changed: %x", n, got)
		}
	}
}

func benchSum(b *testing.B, n int, f func([]byte) [32]byte) {
	buf := make([]byte, n)
	_, _ = rand.Read(buf)
	b.SetBytes(int64(n))
	for b.Loop() {
		f(buf)
	}
}

func BenchmarkSum256_1MiB(b *testing.B)  { benchSum(b, 1<<20, Sum256) }
func BenchmarkGo_1MiB(b *testing.B)      { benchSum(b, 1<<20, blake3.Sum256) }
func BenchmarkSum256_16KiB(b *testing.B) { benchSum(b, 16<<10, Sum256) }
func BenchmarkGo_16KiB(b *testing.B)     { benchSum(b, 16<<10, blake3.Sum256) }
func BenchmarkSum256_2KiB(b *testing.B)  { benchSum(b, 2<<10, Sum256) }
func BenchmarkGo_2KiB(b *testing.B)      { benchSum(b, 2<<10, blake3.Sum256) }
