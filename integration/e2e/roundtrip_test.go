package e2e

import (
	"fmt"
	"path/filepath"
	"testing"
)

// roundTripSizes straddle the chunker's limits (128 KiB minimum, 512 KiB
// average, 2 MiB maximum) and those of earlier parameters (64 KiB, 256
// KiB, 1 MiB).
var roundTripSizes = []int64{
	0, 1, 4095,
	65535, 65536, 65537,
	131071, 131072, 131073,
	262143, 262144, 262145,
	524287, 524288, 524289,
	1048575, 1048576, 1048577,
	2097151, 2097152, 2097153,
	5<<20 + 7,
}

// TestRoundTrip backs up random files of edge sizes (and one of 1 GiB
// unless -short) and reads them back byte for byte through restore and
// through the mount.
func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	src := e.path("src")
	sizes := roundTripSizes
	if !testing.Short() {
		sizes = append(sizes, 1<<30)
	} else {
		t.Log("-short: the 1 GiB file is left out")
	}
	names := map[string]int64{}
	for i, n := range sizes {
		name := fmt.Sprintf("size-%d", n)
		names[name] = n
		writeRandom(t, filepath.Join(src, name), uint64(1000+i), n)
	}
	want := treeSums(t, src)
	v := e.backup("files", src)
	if v.Stats.Bytes != sum(sizes) {
		t.Errorf("version bytes: got %d, want %d", v.Stats.Bytes, sum(sizes))
	}

	t.Run("restore", func(t *testing.T) {
		sameTree(t, "restore", want, treeSums(t, e.restore(v)))
	})
	t.Run("mount", func(t *testing.T) {
		me := *e
		me.t = t
		mp := me.mount()
		dir := versionDir(mp, v)
		latest := filepath.Join(filepath.Dir(dir), "latest", "size-4095")
		if got := fileSum(t, latest); got != want["size-4095"] {
			t.Errorf("latest/size-4095: sha256 %s, want %s", got, want["size-4095"])
		}
		for name, n := range names {
			p := filepath.Join(dir, name)
			if got := fileSize(t, p); got != n {
				t.Errorf("%s: size through the mount %d, want %d", name, got, n)
			}
			if got := fileSum(t, p); got != want[name] {
				t.Errorf("%s: sha256 through the mount %s, want %s", name, got, want[name])
			}
		}
	})
}

func sum(xs []int64) int64 {
	var s int64
	for _, x := range xs {
		s += x
	}
	return s
}
