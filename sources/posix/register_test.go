package posix

import (
	"maps"
	"strings"
	"testing"
)

func TestParseRoots(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want map[string]string
		err  []string // substrings the error must hold; nil: no error
	}{
		{"two tables", []string{"a=/src/a", "b=/src/b"}, map[string]string{"a": "/src/a", "b": "/src/b"}, nil},
		{"one dir under two tables", []string{"a=/src", "b=/src"}, map[string]string{"a": "/src", "b": "/src"}, nil},
		{"same table and dir twice", []string{"a=/src/a", "a=/src/a/"}, map[string]string{"a": "/src/a/"}, nil},
		{"table given twice", []string{"app=/src/a", "app=/src/b"}, nil, []string{`"app"`, "/src/a", "/src/b"}},
		{"no table", []string{"=/src"}, nil, []string{`"=/src"`, "TABLE=DIR"}},
		{"no dir", []string{"a="}, nil, []string{`"a="`, "TABLE=DIR"}},
		{"no equals", []string{"/src"}, nil, []string{`"/src"`, "TABLE=DIR"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRoots(tc.args)
			if tc.err == nil {
				if err != nil || !maps.Equal(got, tc.want) {
					t.Errorf("parseRoots(%q) = %v, %v; want %v", tc.args, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseRoots(%q) = %v, want an error", tc.args, got)
			}
			for _, s := range tc.err {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("parseRoots(%q): error %q does not name %s", tc.args, err, s)
				}
			}
		})
	}
}
