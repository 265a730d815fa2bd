package fs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stratabackup/strata/sources"
)

func TestHostileNames(t *testing.T) {
	mnt := mountTest(t, fixture())
	v := filepath.Join(mnt, "clu%01ster", "db%2Fx", "%2E%2E", t1)
	var want []string
	for _, raw := range hostileNames {
		want = append(want, sources.EscapeName(raw))
	}
	want = append(want, "d")
	slices.Sort(want)
	got := names(t, v)
	if !slices.Equal(got, want) {
		t.Fatalf("names = %q\nwant %q", got, want)
	}
	for _, raw := range hostileNames {
		name := sources.EscapeName(raw)
		if len(name) > sources.MaxNameLen {
			t.Errorf("name of %d bytes shown", len(name))
		}
		for path, content := range map[string]string{name: raw, "d/" + name: "deep " + raw} {
			b, err := os.ReadFile(filepath.Join(v, path))
			if err != nil || string(b) != content {
				t.Errorf("read %q: %q, %v; want %q", path, b, err, content)
			}
		}
	}
}

// TestShortenedNameWithoutListing looks a shortened name up in a
// directory the kernel has never listed.
func TestShortenedNameWithoutListing(t *testing.T) {
	mnt := mountTest(t, fixture())
	raw := hostileNames[4]
	name := sources.EscapeName(raw)
	if !sources.IsShortened(name) {
		t.Fatalf("fixture name %q is not shortened", name)
	}
	b, err := os.ReadFile(filepath.Join(mnt, "clu%01ster", "db%2Fx", "%2E%2E", t1, "d", name))
	if err != nil || string(b) != "deep "+raw {
		t.Errorf("read: %q, %v", b, err)
	}
}
