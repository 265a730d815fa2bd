package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/rclone/rclone/fs/fspath"
)

// TestReadmeRemoteExamples parses every on-the-fly rclone remote the
// README shows (`:s3,provider=...:bucket/dir`) as rclone will: a value
// holding ':' (an endpoint URL) must be quoted, or rclone cuts it at the
// colon and the rest becomes the path.
func TestReadmeRemoteExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := regexp.MustCompile("`(:[a-z0-9]+,[^`]*)`").FindAllStringSubmatch(string(readme), -1)
	if len(examples) == 0 {
		t.Fatal("no on-the-fly remote in the README")
	}
	for _, m := range examples {
		p, err := fspath.Parse(m[1])
		if err != nil {
			t.Errorf("README example %s: %v", m[1], err)
			continue
		}
		if strings.HasPrefix(p.Path, "//") || strings.Contains(p.Path, "=") {
			t.Errorf("README example %s: rclone reads the path as %q (config %v): quote values that hold ':'", m[1], p.Path, p.Config)
		}
	}
}
