// Package harness starts the real servers that integration tests talk to,
// once per `go test` process, through the shell scripts under integration/
// (integration/servers.sh up <name>), and hands tests their addresses.
//
// A test that needs a server calls Require(t, "<name>"). Outside CI a server
// that cannot be started skips the test with the reason; with CI=true it
// fails the test, loudly, never skips.
package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	mu      sync.Mutex
	started = map[string]error{}
)

// InCI reports whether tests run under CI (CI=true), where a missing
// server or /dev/fuse is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" || os.Getenv("CI") == "1" }

// Unavailable fails the test under CI and skips it otherwise.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("required for this test (CI=true, not skipping): %s", msg)
	}
	t.Skipf("skipping: %s (set CI=true to make this a failure)", msg)
}

// Root returns the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// WorkDir is where servers keep data and logs: $STRATA_IT_WORK or
// integration/.work under the repository.
func WorkDir() string {
	if d := os.Getenv("STRATA_IT_WORK"); d != "" {
		return d
	}
	return filepath.Join(Root(), "integration", ".work")
}

// LogDir returns the directory holding a server's logs.
func LogDir(name string) string { return filepath.Join(WorkDir(), name, "logs") }

// Require starts the named server (integration/servers.sh up <name>) once
// per process and registers a cleanup that prints the server's logs when the
// test fails. Under -short it skips the test instead, since `make
// test-unit` promises no servers; `make test` and CI never pass -short. Servers are left running for later tests and processes;
// `make servers-down` stops them.
func Require(t testing.TB, name string) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the " + name + " server: not started under -short")
	}
	mu.Lock()
	err, done := started[name]
	if !done {
		err = up(name)
		started[name] = err
	}
	mu.Unlock()
	if err != nil {
		Unavailable(t, "server %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			PrintLogs(t, name)
		}
	})
}

func up(name string) error {
	cmd := exec.Command("bash", filepath.Join(Root(), "integration", "servers.sh"), "up", name)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("integration/servers.sh up %s: %v\n%s", name, err, tail(out.Bytes(), 4000))
	}
	return nil
}

// Run runs an integration script (relative to integration/) and fails the
// test with its output on error; tests use it to stop and restart nodes.
func Run(t testing.TB, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(Root(), "integration", script)}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("integration/%s %v: %v\n%s", script, args, err, tail(out, 4000))
	}
	return string(out)
}

// PrintLogs writes the tail of every log file of a server to the test log.
func PrintLogs(t testing.TB, name string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(LogDir(name), "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		t.Logf("==== %s (last 8 KiB) ====\n%s", f, tail(b, 8192))
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
