// Package b3 hashes with BLAKE3 through the reference C implementation
// where cgo can build it (linux/amd64), and through github.com/zeebo/blake3
// elsewhere. Every byte a backup reads is hashed, even the unchanged bytes
// of a changed file (that is how they are recognised), and every chunk a
// restore or the mount reads is hashed again to be checked, so the hash is
// on the hot path of both. On this project's machines (AMD EPYC, AVX-512)
// the C code's AVX-512 kernels hash a 1 MiB chunk at 6.0 GB/s against the
// Go package's 3.9 GB/s, 16 KiB at 5.5 against 3.5, 2 KiB at 1.6 against
// 0.8 (BenchmarkSum256_*, BenchmarkGo_*); an input of one BLAKE3 chunk
// (1 KiB) or less has no chunks to hash side by side, the cgo call then
// costs more than it gains (0.86 against 0.90 GB/s: BenchmarkC_1KiB), and
// the Go package hashes it.
//
// The C files are the blake3 crate's c/ directory (crates.io, 1.8.7,
// CC0 or Apache-2.0: LICENSE_CC0, LICENSE_A2), unchanged but for the build
// line at their top; the SSE2 and SSE4.1 kernels are left out
// (BLAKE3_NO_SSE2, BLAKE3_NO_SSE41), so a CPU without AVX2 runs the
// portable C code.
package b3

// Size is a digest's length in bytes.
const Size = 32

// cMin is the input size from which Sum256 calls the C code: more than
// one BLAKE3 chunk.
const cMin = 1025
