package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck runs the checker on the fixture trees under testdata. The bad
// tree breaks every row of the layering table once and holds a func one
// line over the limit next to one exactly at it; its _test.go file, its
// nested testdata, its hidden directory and its third_party copy break
// rules too and must not be reported. The clean tree uses every permitted import and must pass.
func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		dir  string
		want []string
	}{
		{
			name: "bad",
			dir:  "bad",
			want: []string{
				"backends/x/x.go:6: package backends/x imports index: backends/ may import only backends/",
				"cmd/tool/main.go:6: package cmd/tool imports index: cmd/ is a thin shell over daemon/: it may import only daemon/ and the package sources itself",
				"cmd/tool/main.go:8: package cmd/tool imports sources/posix: cmd/ is a thin shell over daemon/: it may import only daemon/ and the package sources itself",
				"daemon/daemon.go:6: package daemon imports cmd/tool: daemon/ may import anything of ours except cmd/ and integration/",
				"daemon/daemon.go:9: package daemon imports integration/harness: daemon/ may import anything of ours except cmd/ and integration/",
				"fs/fs.go:5: package fs imports daemon: fs/ may import only fs/, index/ and the package sources itself (no source kind)",
				"index/index.go:7: package index imports sources/posix: index/ may import only index/, backends/ and the package sources itself (no source kind)",
				"index/long.go:70: func Long is 61 lines (limit 60): split it",
				"index/long.go:133: func Set.Grow is 65 lines (limit 60): split it",
				"sources/posix/posix.go:5: package sources/posix imports backends: sources/ may import only sources/",
				"tools/gen/gen.go:7: package tools/gen imports integration/harness: only integration/ may import integration/",
			},
		},
		{
			name: "clean",
			dir:  "clean",
			want: nil,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			found, err := Check(filepath.Join("testdata", tc.dir))
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var got []string
			for _, v := range found {
				got = append(got, v.String())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("violations:\n got:\n\t%s\nwant:\n\t%s",
					strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
			}
		})
	}
}

// TestMatch pins the pattern forms the layering table is written in.
func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, pkg string
		want         bool
	}{
		{"...", "", true},
		{"...", "cmd/strata", true},
		{"sources", "sources", true},
		{"sources", "sources/posix", false},
		{"sources/...", "sources", true},
		{"sources/...", "sources/posix", true},
		{"sources/...", "sourcesx", false},
		{"index/...", "index/sub/deeper", true},
		{"index/...", "", false},
	}
	for _, tc := range cases {
		if got := match(tc.pattern, tc.pkg); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pattern, tc.pkg, got, tc.want)
		}
	}
}

// TestCheckNoGoMod reports a tree without go.mod as an error naming the
// file, not as a clean pass.
func TestCheckNoGoMod(t *testing.T) {
	_, err := Check(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "go.mod") {
		t.Fatalf("Check(empty dir) error = %v, want one naming go.mod", err)
	}
}
