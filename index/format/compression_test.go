package format

import (
	"bytes"
	"context"
	"strings"
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
