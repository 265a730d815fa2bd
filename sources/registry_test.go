package sources

import (
	"fmt"
	"strings"
	"testing"
)

func TestKindCheck(t *testing.T) {
	k := Kind{Name: "k", Options: []Option{{Name: "uri", Required: true}, {Name: "root", Positional: true, Repeated: true}}}
	cases := []struct {
		name string
		vals map[string][]string
		want string // "" means valid
	}{
		{"complete", map[string][]string{"cluster": {"c"}, "uri": {"u"}, "root": {"a=/a", "b=/b"}, "only": {"x", "y"}}, ""},
		{"no cluster", map[string][]string{"uri": {"u"}}, `setting "cluster" is required`},
		{"no uri", map[string][]string{"cluster": {"c"}}, `setting "uri" is required`},
		{"empty uri", map[string][]string{"cluster": {"c"}, "uri": {""}}, `setting "uri" is required`},
		{"unknown", map[string][]string{"cluster": {"c"}, "uri": {"u"}, "colour": {"red"}}, `unknown setting "colour"`},
		{"twice", map[string][]string{"cluster": {"c"}, "uri": {"u", "v"}}, `setting "uri" given 2 times`},
	}
	for _, tc := range cases {
		err := k.Check(Config{Values: tc.vals})
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestRegister(t *testing.T) {
	Register(Kind{Name: "registry-test", New: func(Config) (Source, error) { return nil, nil }, Differ: nil})
	k, err := LookupKind("registry-test")
	if err != nil || k.Name != "registry-test" {
		t.Fatalf("LookupKind: %+v, %v", k, err)
	}
	if _, err := LookupKind("nosuch"); err == nil || !strings.Contains(err.Error(), "registry-test") {
		t.Errorf("unknown kind: %v, want an error listing the known kinds", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a kind twice did not panic")
		}
	}()
	Register(Kind{Name: "registry-test", New: func(Config) (Source, error) { return nil, nil }})
}

func TestConfigCount(t *testing.T) {
	cases := []struct {
		val  []string
		want int
		err  bool
	}{
		{nil, 0, false},
		{[]string{"8"}, 8, false},
		{[]string{" 3 "}, 3, false},
		{[]string{"64"}, 64, false},
		{[]string{"65"}, 0, true},
		{[]string{"0"}, 0, true},
		{[]string{"-2"}, 0, true},
		{[]string{"many"}, 0, true},
		{[]string{"2", "5"}, 5, false}, // the last one given
	}
	for _, tc := range cases {
		c := NewConfig()
		if tc.val != nil {
			c.Set("readers", tc.val...)
		}
		n, err := c.Count("readers", 64)
		if n != tc.want || (err != nil) != tc.err {
			t.Errorf("Count(readers=%q) = %d, %v; want %d, error %v", tc.val, n, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), "readers=") {
			t.Errorf("Count(readers=%q): error %q does not name the setting", tc.val, err)
		}
	}
}

func TestConfigBool(t *testing.T) {
	for _, tc := range []struct {
		val  []string
		want bool
		err  bool
	}{
		{nil, false, false},
		{[]string{"true"}, true, false},
		{[]string{"TRUE"}, true, false},
		{[]string{"1"}, true, false},
		{[]string{" t "}, true, false},
		{[]string{"false"}, false, false},
		{[]string{"0"}, false, false},
		{[]string{"yes"}, false, true},
		{[]string{"on"}, false, true},
		{[]string{"1x"}, false, true},
		{[]string{"true", "false"}, false, false}, // the last one given
	} {
		c := NewConfig()
		if tc.val != nil {
			c.Set("tls", tc.val...)
		}
		b, err := c.Bool("tls")
		if b != tc.want || (err != nil) != tc.err {
			t.Errorf("Bool(tls=%q) = %v, %v; want %v, error %v", tc.val, b, err, tc.want, tc.err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("tls=%q", tc.val[len(tc.val)-1])) {
			t.Errorf("Bool(tls=%q): error %q does not name the setting and value", tc.val, err)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"a", true}, {"a/b.c/..d", true}, {"...", true},
		{"", false}, {".", false}, {"..", false}, {"a/..", false}, {"a/../b", false},
		{"/a", false}, {"a/", false}, {"a//b", false}, {"a/./b", false}, {"a\x00b", false},
	} {
		if err := CheckPath(tc.p); (err == nil) != tc.ok {
			t.Errorf("CheckPath(%q) = %v, want ok %v", tc.p, err, tc.ok)
		}
	}
}
