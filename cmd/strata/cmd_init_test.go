package main

import (
	"strings"
	"testing"
)

// TestInitBadCompression: an unknown --compression level is bad usage
// (exit 2) naming the flag and the value, as other commands' bad input is.
func TestInitBadCompression(t *testing.T) {
	err := runCLI(t, "init", "--store", t.TempDir()+"/store", "--compression", "fast")
	if codeOf(err) != exitUsage || !strings.Contains(err.Error(), "--compression") || !strings.Contains(err.Error(), `"fast"`) {
		t.Fatalf("init --compression fast: %v (exit %d), want exit 2 naming --compression \"fast\"", err, codeOf(err))
	}
}
