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

// findRestic returns a restic binary, installing one if none is found:
// Debian's package first (0.14, with compression, as users run it), then
// `go install` (the Go module proxy here serves only restic 0.10, which
// has no compression, so its store sizes are not comparable).
func findRestic(ctx context.Context) (string, error) {
	gobin := filepath.Join(goPath(), "bin", "restic")
	for _, p := range []string{"/usr/bin/restic", gobin} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	logf("installing restic with apt-get")
	if err := runCmd(exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "restic")); err == nil {
		return "/usr/bin/restic", nil
	} else {
		logf("apt-get install restic failed (%v); trying go install", err)
	}
	if err := runCmd(exec.CommandContext(ctx, "go", "install", "github.com/restic/restic/cmd/restic@latest")); err != nil {
		return "", fmt.Errorf("install restic: %w", err)
	}
	return gobin, nil
}

func goPath() string {
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.SplitList(p)[0]
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil && len(out) > 1 {
		return string(out[:len(out)-1])
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, "go")
}

// ensureFuse installs fuse3 if no fusermount is on PATH (restic's mount
// needs it; strata's go-fuse mount uses it when not root).
func ensureFuse(ctx context.Context) error {
	for _, name := range []string{"fusermount3", "fusermount"} {
		if _, err := exec.LookPath(name); err == nil {
			return nil
		}
	}
	logf("installing fuse3 with apt-get")
	if err := runCmd(exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "fuse3")); err != nil {
		return fmt.Errorf("install fuse3 (needed by mounts): %w", err)
	}
	return nil
}
