package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// buildStrata builds ./cmd/strata from the source tree into dir.
func buildStrata(ctx context.Context, repoRoot, dir string) (string, error) {
	bin := filepath.Join(dir, "strata")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/strata")
	cmd.Dir = repoRoot
	if err := runCmd(cmd); err != nil {
		return "", fmt.Errorf("build strata: %w", err)
	}
	return bin, nil
}

// resticVersion is the peer measured against: the newest restic that
// installs here. The Go module proxy serves it to `go install` even though
// its version list shows only 0.10; Debian's 0.14 is two years older.
const resticVersion = "v0.18.1"

// findRestic returns restic resticVersion, built once with `go install`
// into the cache (idempotent: a later run finds the binary).
func findRestic(ctx context.Context, cache string) (string, error) {
	dir := filepath.Join(cache, "tools", "restic-"+resticVersion)
	bin := filepath.Join(dir, "restic")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	logf("installing restic %s with go install into %s", resticVersion, dir)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/restic/restic/cmd/restic@"+resticVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "GOWORK=off")
	if err := runCmd(cmd); err != nil {
		return "", fmt.Errorf("install restic %s: %w", resticVersion, err)
	}
	return bin, nil
}

// ensureTool installs the Debian package pkg with apt-get if none of
// cmds is on PATH, for what the bench needs it for: fuse3's fusermount
// (restic's mount needs it; strata's go-fuse mount uses it when not root)
// and rsync (the real tree's second release is synced with it), so that
// `go run ./integration/bench` works without make bench's
// integration/install-deps.sh.
func ensureTool(ctx context.Context, pkg, neededBy string, cmds ...string) error {
	for _, name := range cmds {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
	}
	logf("installing %s with apt-get", pkg)
	if err := runCmd(exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", pkg)); err != nil {
		return fmt.Errorf("install %s (needed by %s): %w", pkg, neededBy, err)
	}
	return nil
}
