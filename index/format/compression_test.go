package format

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stratabackup/strata/backends"
)

// TestInitCompressionLevels creates a store at each level and checks
// that the level survives the config's round trip, that chunks are
// written at it (off: raw) and that every blob reads back the same.
func TestInitCompressionLevels(t *testing.T) {
	ctx := context.Background()
	chunk := bytes.Repeat([]byte(`{"event":"order.shipped","warehouse":"oslo","qty":3}`+"\n"), 4000)
	for _, tc := range []struct {
		flag, level, compression string
		typ                      byte
	}{
		{"", NewStoreCompression, "zstd", blobZstd},
		{"default", CompressionDefault, "zstd", blobZstd},
		{"fastest", CompressionFastest, "zstd", blobZstd},
		{"better", CompressionBetter, "zstd", blobZstd},
		{"off", CompressionOff, "none", blobRaw},
	} {
		t.Run(tc.level+"/"+tc.flag, func(t *testing.T) {
			be, err := backends.Open(ctx, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := InitWith(ctx, be, InitOptions{Compression: tc.flag}); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(ctx, be)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Level() != tc.level || cfg.Compression != tc.compression {
				t.Fatalf("config says %q/%q, want %q/%q", cfg.Compression, cfg.Level(), tc.compression, tc.level)
			}
			typ, blob := EncodeBlobLevel(cfg.Level(), nil, chunk)
			if typ != tc.typ {
				t.Fatalf("blob type %d, want %d", typ, tc.typ)
			}
			got, err := DecodeBlob(HashChunk(chunk), typ, blob, len(chunk))
			if err != nil || !bytes.Equal(got, chunk) {
				t.Fatalf("round trip failed: %v", err)
			}
		})
	}
}

// TestCompressionErrors: an unknown level is refused at init, naming
// it, without writing a config, and a config naming a level this code
// does not know is refused when the store is opened.
func TestCompressionErrors(t *testing.T) {
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"fast", "zstd", "OFF", "none"} {
		_, err := InitWith(ctx, be, InitOptions{Compression: bad})
		if err == nil || !strings.Contains(err.Error(), `"`+bad+`"`) {
			t.Fatalf("level %q: error %v, want one naming it", bad, err)
		}
	}
	if _, err := LoadConfig(ctx, be); err == nil {
		t.Fatal("a refused init wrote a config")
	}
	for _, tc := range []struct{ json, culprit string }{
		{`"compression": "lz4"`, `unknown compression "lz4"`},
		{`"compression": "zstd", "compression_level": "max"`, `unknown compression_level "max"`},
		{`"compression": "zstd", "compression_level": "off"`, `unknown compression_level "off"`},
	} {
		cfg := `{"id": "x", "format": 4, "chunker": {"min": 131072, "avg": 524288, "max": 2097152, "seed": 1}, "hash": "blake3-256", ` + tc.json + `}`
		if err := be.Put(ctx, "config", []byte(cfg)); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadConfig(ctx, be); err == nil || !strings.Contains(err.Error(), tc.culprit) {
			t.Fatalf("config with %s: error %v, want one naming %s", tc.json, err, tc.culprit)
		}
	}
}

// TestEncodeBlobSizesAndLevels: chunks of every size a backup hands the
// encoder (an empty file's, small files', both sides of the boundary
// between the small and large contexts, the chunker's largest), at each
// level, read back the same through the Go decoder, from concurrent
// writers sharing the pooled contexts and reusing their buffers as a
// backup's workers do; text gets smaller with the level, and random
// bytes are stored raw.
func TestEncodeBlobSizesAndLevels(t *testing.T) {
	text := jsonLines(3 << 20)
	random := randBytes(7, 256<<10)
	sizes := []int{0, 1, 100, 4 << 10, 128 << 10, 128<<10 + 1, 512 << 10, 2 << 20}
	levels := []string{CompressionFastest, CompressionDefault, CompressionBetter}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var dst []byte
			for i := range 3 {
				for _, l := range levels {
					for _, n := range sizes {
						chunk := text[w+i : w+i+n]
						typ, blob := EncodeBlobLevel(l, dst, chunk)
						got, err := DecodeBlob(HashChunk(chunk), typ, blob, len(chunk))
						if err != nil || !bytes.Equal(got, chunk) {
							t.Errorf("level %s, %d bytes: round trip failed: %v", l, n, err)
							return
						}
						if n >= 4<<10 && typ != blobZstd {
							t.Errorf("level %s, %d bytes of text stored raw", l, n)
						}
						dst = blob
					}
				}
			}
		}()
	}
	wg.Wait()
	chunk := text[:512<<10]
	_, fastest := EncodeBlobLevel(CompressionFastest, nil, chunk)
	_, def := EncodeBlobLevel(CompressionDefault, nil, chunk)
	if len(def) > len(fastest) {
		t.Errorf("default stored %d bytes of text, fastest %d: the levels are not ordered", len(def), len(fastest))
	}
	for _, l := range levels {
		if typ, blob := EncodeBlobLevel(l, nil, random); typ != blobRaw || !bytes.Equal(blob, random) {
			t.Errorf("level %s: random bytes stored as type %d, %d bytes; want raw", l, typ, len(blob))
		}
	}
}

// jsonLines returns about n bytes of JSON lines of varying content, as a
// log or an export holds (a repeated line compresses to a few bytes at
// any level, and says nothing about the levels).
func jsonLines(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "bravo", "kilo", "lima", "tango", "order", "refund", "oslo", "lagos", "quito", "shipped", "timeout"}
	var b []byte
	for id := 0; len(b) < n; id++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"%s_%d","event":"%s.%s","amount":%d.%02d,"note":"%s %s %s"}`+"\n",
			id, words[rng.IntN(len(words))], rng.IntN(100000), words[rng.IntN(len(words))], words[rng.IntN(len(words))],
			rng.IntN(100000), rng.IntN(100), words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))])
	}
	return b
}

// A chunk is stored raw without being compressed whole only when every
// sample of it is incompressible: random bytes are; text is not, nor is
// random data with text where a sample falls (start, inside, end), nor a
// chunk too small to sample (random data repeated: the compressor sees
// the repeats, samples would not).
func TestIncompressibleBySamples(t *testing.T) {
	text := jsonLines(1 << 20)
	random := randBytes(9, 1<<20)
	with := func(base []byte, off int, part []byte) []byte {
		out := bytes.Clone(base)
		copy(out[off:], part)
		return out
	}
	third := randBytes(10, 16<<10)
	for _, tc := range []struct {
		name  string
		chunk []byte
		want  bool
	}{
		{"random", random, true},
		{"text", text, false},
		{"random, text at the start", with(random, 0, text[:8<<10]), false},
		{"random, text in the middle", with(random, 512<<10-2<<10, text[:8<<10]), false},
		{"random, text at the end", with(random, 1<<20-8<<10, text[:8<<10]), false},
		{"random, too small to sample", bytes.Repeat(third, 3), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := incompressible(tc.chunk); got != tc.want {
				t.Fatalf("incompressible: %v, want %v", got, tc.want)
			}
			typ, blob := EncodeBlobLevel(CompressionDefault, nil, tc.chunk)
			if got, err := DecodeBlob(HashChunk(tc.chunk), typ, blob, len(tc.chunk)); err != nil || !bytes.Equal(got, tc.chunk) {
				t.Fatalf("round trip: %v", err)
			}
			if tc.want && typ != blobRaw {
				t.Fatalf("stored as type %d, want raw", typ)
			}
		})
	}
}
