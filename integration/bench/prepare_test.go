package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Without rsync (and here without apt-get to install it) the real tree
// cannot get its second release: the bench says so before any step runs,
// naming what to install or skip.
func TestPrepareNeedsRsyncForTheRealTree(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	b := &bench{cfg: config{real: true}, runDir: filepath.Join(t.TempDir(), "run")}
	err := b.prepare(context.Background())
	if err == nil || !strings.Contains(err.Error(), "rsync") || !strings.Contains(err.Error(), "-real=false") {
		t.Fatalf("prepare without rsync: %v; want an error naming rsync and -real=false", err)
	}
}
