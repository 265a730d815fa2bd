package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestMainSpecAddsUpAndIsDeterministic(t *testing.T) {
	const size = 64 << 20
	a, b := mainSpec("/c", size, 1), mainSpec("/c", size, 1)
	if a.bytes(1) != size {
		t.Errorf("main set holds %d bytes, want %d", a.bytes(1), size)
	}
	if len(a.files) != len(b.files) || a.files[len(a.files)-1] != b.files[len(b.files)-1] {
		t.Errorf("two layouts from one seed differ")
	}
	if len(a.largeFiles()) != 2 {
		t.Errorf("want 2 large files, got %d", len(a.largeFiles()))
	}
}

func TestStreamsAreDeterministic(t *testing.T) {
	for _, k := range []kind{kindText, kindRandom} {
		x, _ := io.ReadAll(io.LimitReader(stream(1, "f", 1, k), 10000))
		y, _ := io.ReadAll(io.LimitReader(stream(1, "f", 1, k), 10000))
		z, _ := io.ReadAll(io.LimitReader(stream(1, "f", 2, k), 10000))
		if !bytes.Equal(x, y) || bytes.Equal(x, z) || len(x) != 10000 {
			t.Errorf("kind %d: same key gave different bytes or versions gave equal ones", k)
		}
	}
}

func TestVersionTwoThenBackToOne(t *testing.T) {
	d := mainSpec(t.TempDir(), 4<<20, 7)
	if err := d.ensure(); err != nil {
		t.Fatal(err)
	}
	orig := filepath.Join(d.dir, d.files[1].rel) // records.jsonl, changed in v2
	v1, _ := os.ReadFile(orig)
	if err := d.toV2(); err != nil {
		t.Fatal(err)
	}
	if err := verifyTree(d, d.dir); err != nil {
		t.Fatalf("version 2 does not match its spec: %v", err)
	}
	if err := d.ensure(); err != nil {
		t.Fatal(err)
	}
	back, _ := os.ReadFile(orig)
	if !bytes.Equal(v1, back) {
		t.Errorf("ensure did not restore version 1 of %s", orig)
	}
}

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"256MiB": 256 << 20, "2GiB": 2 << 30, "1.5GB": 1.5e9, "4096": 4096}
	for in, want := range cases {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := parseSize("lots"); err == nil {
		t.Errorf("parseSize accepted garbage")
	}
}
