package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// tool is one backup program under test. Each method is one invocation,
// kept small so that a changed command line is a one-line fix.
type tool interface {
	name() string
	version(ctx context.Context) string
	initRepo(ctx context.Context, repo string) error
	backup(ctx context.Context, repo, table, dir string) error
	// restore restores the latest version of dir into target and returns
	// where the copy of dir's root landed.
	restore(ctx context.Context, repo, table, dir, target string) (string, error)
	// mountCmd returns the foreground mount command (not started).
	mountCmd(ctx context.Context, repo, mnt string) *exec.Cmd
	// latest is the latest version of dir's root inside a mount.
	latest(mnt, table, dir string) string
	// cacheDir is the tool's local cache (strata's catalog, restic's
	// cache), which a backup updates along with the repository.
	cacheDir() string
}

// run runs a command and returns its error with the tail of its output;
// its peak RSS and CPU time are left in lastUsage.
func runCmd(cmd *exec.Cmd) error {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	lastUsage = usageOf(cmd)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(out.String(), 800))
	}
	return nil
}

// usage is what a finished process cost.
type usage struct {
	maxRSS    int64 // bytes
	user, sys float64
}

// lastUsage is the usage of the last command runCmd ran (steps run one at
// a time).
var lastUsage usage

func usageOf(cmd *exec.Cmd) usage {
	if cmd.ProcessState == nil {
		return usage{}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return usage{}
	}
	return usage{maxRSS: ru.Maxrss * 1024, user: cmd.ProcessState.UserTime().Seconds(), sys: cmd.ProcessState.SystemTime().Seconds()}
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "..." + s[len(s)-n:]
	}
	return s
}

// strata drives the strata CLI, with its catalog (a local cache, like
// restic's) in the run directory.
type strata struct {
	bin   string
	cache string
	level string // strata init --compression; empty: the default
}

const (
	strataCluster = "bench"
	strataDB      = "data"
)

func (s strata) name() string { return "strata" }

func (s strata) cacheDir() string { return s.cache }

func (s strata) cmd(ctx context.Context, repo string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, s.bin, append([]string{"--store", repo, "--cache-dir", s.cache, "--quiet"}, args...)...)
}

func (s strata) version(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, s.bin, "--version").CombinedOutput()
	if err != nil {
		return "strata (version unknown)"
	}
	return strings.TrimSpace(string(out))
}

func (s strata) initRepo(ctx context.Context, repo string) error {
	args := []string{"init"}
	if s.level != "" {
		args = append(args, "--compression", s.level)
	}
	return runCmd(s.cmd(ctx, repo, args...))
}

func (s strata) backup(ctx context.Context, repo, table, dir string) error {
	return runCmd(s.cmd(ctx, repo, "backup", "posix", "--cluster", strataCluster, "--db", strataDB, table+"="+dir))
}

func (s strata) restore(ctx context.Context, repo, table, dir, target string) (string, error) {
	ref := strataCluster + "/" + strataDB + "/" + table + "/latest"
	return target, runCmd(s.cmd(ctx, repo, "restore", ref, target))
}

func (s strata) mountCmd(ctx context.Context, repo, mnt string) *exec.Cmd {
	return s.cmd(ctx, repo, "mount", mnt)
}

func (s strata) latest(mnt, table, dir string) string {
	return filepath.Join(mnt, strataCluster, strataDB, table, "latest")
}

// restic drives restic with a fixed password and a per-run cache.
type restic struct {
	bin   string
	cache string
}

// resticPassword is fixed: the repositories are throw-away.
const resticPassword = "strata-bench"

func (r restic) name() string { return "restic" }

func (r restic) cacheDir() string { return r.cache }

func (r restic) cmd(ctx context.Context, repo string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, r.bin, args...)
	c.Env = append(os.Environ(), "RESTIC_REPOSITORY="+repo, "RESTIC_PASSWORD="+resticPassword, "RESTIC_CACHE_DIR="+r.cache)
	return c
}

func (r restic) version(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, r.bin, "version").CombinedOutput()
	if err != nil {
		return "restic (version unknown)"
	}
	return strings.TrimSpace(string(out))
}

func (r restic) initRepo(ctx context.Context, repo string) error {
	return runCmd(r.cmd(ctx, repo, "init"))
}

func (r restic) backup(ctx context.Context, repo, table, dir string) error {
	return runCmd(r.cmd(ctx, repo, "backup", "--quiet", "--host", "bench", "--tag", table, dir))
}

func (r restic) restore(ctx context.Context, repo, table, dir, target string) (string, error) {
	err := runCmd(r.cmd(ctx, repo, "restore", "latest", "--quiet", "--host", "bench", "--path", dir, "--target", target))
	return filepath.Join(target, dir), err
}

func (r restic) mountCmd(ctx context.Context, repo, mnt string) *exec.Cmd {
	return r.cmd(ctx, repo, "mount", mnt)
}

func (r restic) latest(mnt, table, dir string) string {
	return filepath.Join(mnt, "snapshots", "latest", dir)
}
