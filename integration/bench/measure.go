package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var dropWarned bool

// dropCaches empties the page cache so the next step reads from disk.
func dropCaches() {
	syscall.Sync()
	err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0)
	if err != nil && !dropWarned {
		dropWarned = true
		logf("warning: cannot drop caches (%v): read figures will be warm", err)
	}
}

// timed runs f after dropping caches and returns its duration.
func timed(f func() error) (time.Duration, error) {
	dropCaches()
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// rate is MB/s (10^6 bytes).
func rate(bytes int64, d time.Duration) float64 {
	return float64(bytes) / 1e6 / d.Seconds()
}

// diskUsage is what du reports: allocated blocks of everything under dir,
// after a sync. Right after a backup, blocks the filesystem has reserved
// but not yet allocated (delayed allocation) are counted too: restic's
// packs showed 1 MB more blocks than bytes then, none minutes later, and
// the store rows moved by about 1% with it.
func diskUsage(dir string) (int64, error) {
	syscall.Sync()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			return err
		}
		total += st.Blocks * 512
		return nil
	})
	return total, err
}

// readFile reads path sequentially with 1 MiB requests; it returns bytes.
func readFile(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, make([]byte, 1<<20))
}

// lsLR runs `ls -lR dir/` with output discarded (the trailing slash makes
// ls follow a "latest" symlink).
func lsLR(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "ls", "-lR", dir+"/")
	cmd.Stdout = io.Discard
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("ls -lR %s: %w: %s", dir, err, tail(stderr.String(), 400))
	}
	return nil
}

// mount is a running foreground mount command.
type mount struct {
	dir  string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

// startMount starts cmd and waits until probe exists inside the mount.
func startMount(cmd *exec.Cmd, dir, probe, logPath string) (*mount, error) {
	unmountStale(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 20 * time.Second
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", strings.Join(cmd.Args, " "), err)
	}
	m := &mount{dir: dir, cmd: cmd, done: make(chan error, 1), log: logFile}
	go func() { m.done <- cmd.Wait() }()
	deadline := time.After(90 * time.Second)
	for {
		if _, err := os.Stat(probe); err == nil {
			return m, nil
		}
		select {
		case err := <-m.done:
			m.done <- err
			m.stop()
			return nil, fmt.Errorf("%s exited before %s appeared: %v: %s", strings.Join(cmd.Args, " "), probe, err, logTail(logPath))
		case <-deadline:
			m.stop()
			return nil, fmt.Errorf("%s: %s did not appear within 90 s: %s", strings.Join(cmd.Args, " "), probe, logTail(logPath))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM, waits, and lazily unmounts whatever remains.
func (m *mount) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(20 * time.Second):
		logf("warning: %s did not exit after SIGTERM; killing it", m.cmd.Args[0])
		_ = m.cmd.Process.Kill()
		<-m.done
	}
	unmountStale(m.dir)
	m.log.Close()
}

// remountable is a tool's mount that a cold measurement starts afresh:
// dropping the page cache empties the kernel's caches, not the mount
// daemon's (the listings it read stay in its memory, so an ls -lR after
// tar, or a second ls -lR, would be warm where the daemon's work is).
type remountable struct {
	m     *mount
	start func() (*mount, error)
}

// restart stops the mount if it runs and starts it again.
func (r *remountable) restart() error {
	r.stop()
	m, err := r.start()
	r.m = m
	return err
}

func (r *remountable) stop() {
	if r.m != nil {
		r.m.stop()
		r.m = nil
	}
}

// unmountStale lazily unmounts dir if something is mounted there.
func unmountStale(dir string) {
	if !isMounted(dir) {
		return
	}
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
		logf("warning: unmount %s: %v", dir, err)
	}
}

func isMounted(dir string) bool {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[1] == dir {
			return true
		}
	}
	return false
}

func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return tail(string(b), 600)
}

// errSkipped marks a step not run because an earlier one failed.
var errSkipped = errors.New("skipped")

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
