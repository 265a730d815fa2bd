package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes runs every command with bad flags, unknown commands and
// missing arguments, and checks the exit code the README documents (0 ok,
// 1 error, 2 bad usage, 3 check found damage, 4 no store) and that stderr
// names the problem.
func TestExitCodes(t *testing.T) {
	e := newEnv(t)
	dir := e.path("src")
	writeFiles(t, dir, map[string]string{"a.txt": "hello"})
	e.ok("backup", "posix", "--cluster", "c", "--db", "d", "t="+dir)
	missing := e.path("no-store")
	cases := []struct {
		args []string
		code int
		says string // a substring stderr must hold
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{nil, 2, "missing command"},
		{[]string{"--nope", "versions"}, 2, "-nope"},
		{[]string{"versions", "--nope"}, 2, "-nope"},
		{[]string{"versions", "--store", e.store}, 0, ""},
		{[]string{"versions", "--store", missing}, 4, missing},
		{[]string{"--store", missing, "versions"}, 4, missing},
		{[]string{"init"}, 1, "already exists"},
		{[]string{"init", "extra"}, 2, `"extra"`},
		{[]string{"backup"}, 2, "missing source kind"},
		{[]string{"backup", "frob"}, 2, `"frob"`},
		{[]string{"backup", "posix"}, 2, "cluster"},
		{[]string{"backup", "posix", "--cluster", "c", "--db", "d", "notadir"}, 2, `"notadir"`},
		{[]string{"backup", "posix", "--cluster", "c", "--db", "d", "t=" + e.path("gone")}, 1, e.path("gone")},
		{[]string{"backup", "mongodb", "--cluster", "c"}, 2, "uri"},
		{[]string{"backup", "posix", "--cluster", "c", "--db", "d", "--bogus", "t=" + dir}, 2, "-bogus"},
		{[]string{"versions", "--bogus"}, 2, "-bogus"},
		{[]string{"restore"}, 2, "restore"},
		{[]string{"restore", "c/d/t/latest"}, 2, "TARGET_DIR"},
		{[]string{"restore", "x/y/z/latest", e.path("out")}, 1, `"x/y/z"`},
		{[]string{"restore", "c/d/t/latest", e.path("out-ok")}, 0, ""},
		{[]string{"mount"}, 2, "MOUNTPOINT"},
		{[]string{"mount", e.path("no-such-dir")}, 2, e.path("no-such-dir")},
		{[]string{"diff"}, 2, "T1..T2"},
		{[]string{"diff", "c/d/t"}, 2, "T1..T2"},
		{[]string{"diff", "x/y/z", "2020-01-01..2021-01-01"}, 1, `"x/y/z"`},
		{[]string{"forget", "c/d/t"}, 2, "--keep-"},
		{[]string{"forget", "--bogus"}, 2, "-bogus"},
		{[]string{"prune", "--bogus"}, 2, "-bogus"},
		{[]string{"prune", "extra"}, 2, `"extra"`},
		{[]string{"check", "extra"}, 2, `"extra"`},
		{[]string{"check"}, 0, ""},
		{[]string{"index"}, 2, "rebuild"},
		{[]string{"index", "frob"}, 2, `"frob"`},
		{[]string{"index", "rebuild", "extra"}, 2, `"extra"`},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, "_"), func(t *testing.T) {
			r := e.run(tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			if tc.says != "" && !strings.Contains(r.stderr, tc.says) {
				t.Fatalf("stderr does not name %q\n%s", tc.says, r)
			}
			if tc.code != 0 && strings.TrimSpace(r.stderr) == "" {
				t.Fatalf("failed without a message\n%s", r)
			}
		})
	}
}

// writeFiles creates files (name -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
