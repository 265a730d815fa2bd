package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// strataBin is the binary TestMain builds once for every test.
var strataBin string

// TestMain builds ./cmd/strata once for the whole process, or takes the
// binary named by $STRATA_E2E_BIN (to test another build, e.g. an older
// commit's, with the same tests).
func TestMain(m *testing.M) {
	if bin := os.Getenv("STRATA_E2E_BIN"); bin != "" {
		strataBin = bin
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "strata-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir for the binary:", err)
		os.Exit(1)
	}
	strataBin = filepath.Join(dir, "strata")
	if err := buildStrata(harness.Root(), strataBin); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildStrata builds ./cmd/strata of the source tree at dir into bin.
func buildStrata(dir, bin string) error {
	build := exec.Command("go", "build", "-o", bin, "./cmd/strata")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/strata in %s: %v\n%s", dir, err, out)
	}
	return nil
}

// env is one test's store and catalog: every command runs against them.
type env struct {
	t     *testing.T
	root  string // the test's temp dir
	store string
	cache string
	bin   string // the strata binary run; strataBin when empty
}

// newEnv creates an empty store (strata init) in a local directory.
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, "")
}

// newEnvAt creates an empty store at location (a local directory when
// empty, else any backend location, e.g. an rclone connection string).
func newEnvAt(t *testing.T, location string) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{t: t, root: root, store: location, cache: filepath.Join(root, "cache")}
	if location == "" {
		e.store = filepath.Join(root, "store")
	}
	e.ok("init")
	return e
}

// path returns a path under the test's temp dir.
func (e *env) path(elem ...string) string {
	return filepath.Join(append([]string{e.root}, elem...)...)
}

// cmd prepares a strata command with the test's store and catalog.
func (e *env) cmd(args ...string) *exec.Cmd {
	bin := e.bin
	if bin == "" {
		bin = strataBin
	}
	c := exec.Command(bin, append([]string{"--quiet"}, args...)...)
	c.Env = append(os.Environ(), "STRATA_STORE="+e.store, "STRATA_CACHE="+e.cache)
	return c
}

// result is a finished command's output and exit status.
type result struct {
	args           []string
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("strata %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs strata and returns its result whatever the exit status.
func (e *env) run(args ...string) result {
	e.t.Helper()
	c := e.cmd(args...)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	r := result{args: args, stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("run strata %v: %v", args, err)
	}
	return r
}

// ok runs strata and fails the test unless it exits 0.
func (e *env) ok(args ...string) result {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		diagnose(e.t, r)
		e.t.Fatalf("%s", r)
	}
	return r
}

// start starts strata in the background; the caller waits for it.
func (e *env) start(args ...string) *bgCmd {
	e.t.Helper()
	b := &bgCmd{args: args, cmd: e.cmd(args...), done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		e.t.Fatalf("start strata %v: %v", args, err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-b.done:
		default:
			_ = b.cmd.Process.Kill()
			<-b.done
		}
	})
	return b
}

// bgCmd is a strata process running in the background.
type bgCmd struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer // read only after done is closed
	done           chan struct{}
	err            error
}

// wait waits for the process and returns its result.
func (b *bgCmd) wait() result {
	<-b.done
	r := result{args: b.args, stdout: b.stdout.String(), stderr: b.stderr.String()}
	var ee *exec.ExitError
	if errors.As(b.err, &ee) {
		r.code = ee.ExitCode()
	} else if b.err != nil {
		r.code = -1
		r.stderr += "\n" + b.err.Error()
	}
	return r
}

// exited reports whether the process has ended.
func (b *bgCmd) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// backup backs up dir as cluster c, database d, the given table and returns
// the new version as `backup --json` reports it.
func (e *env) backup(table, dir string) index.Version {
	e.t.Helper()
	return parseBackup(e.t, e.ok("--json", "backup", "posix", "--cluster", "c", "--db", "d", table+"="+dir))
}

func parseBackup(t *testing.T, r result) index.Version {
	t.Helper()
	var res []struct {
		Object  string         `json:"object"`
		Version *index.Version `json:"version"`
		Error   string         `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("parse backup --json: %v\n%s", err, r)
	}
	if len(res) != 1 || res[0].Version == nil {
		t.Fatalf("backup --json: want one version, got %+v\n%s", res, r)
	}
	return *res[0].Version
}

// versions returns `strata versions --json`.
func (e *env) versions() []index.Version {
	e.t.Helper()
	r := e.ok("--json", "versions")
	var vs []index.Version
	if err := json.Unmarshal([]byte(r.stdout), &vs); err != nil {
		e.t.Fatalf("parse versions --json: %v\n%s", err, r)
	}
	return vs
}

// spec names a version for restore: cluster/db/table/time.
func spec(v index.Version) string {
	return v.Object.String() + "/" + index.TimeName(v.Time)
}

// restore restores a whole version into a new directory and returns it.
func (e *env) restore(v index.Version) string {
	e.t.Helper()
	dst, err := os.MkdirTemp(e.root, "restore-")
	if err != nil {
		e.t.Fatal(err)
	}
	dst = filepath.Join(dst, "out")
	e.ok("restore", spec(v), dst)
	return dst
}

// tempPrefix starts the names of the local backend's temporary files
// (backends/put.go), which are not packs yet.
const tempPrefix = ".strata-tmp-"

// packs lists the pack files of the store (relative names).
func (e *env) packs() map[string]int64 {
	e.t.Helper()
	out := map[string]int64{}
	root := filepath.Join(e.store, "packs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() && !strings.HasPrefix(d.Name(), tempPrefix) {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(e.store, p)
			out[rel] = fi.Size()
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("list packs: %v", err)
	}
	return out
}

// diagnose explains, in the test log, failures whose cause is known (bugs
// outside this package that these tests found), so that a red test says
// what is wrong and where.
func diagnose(t *testing.T, r result) {
	t.Helper()
	out := r.stdout + r.stderr
	if strings.Contains(out, "open catalog") && strings.Contains(out, "resource temporarily unavailable") {
		t.Log("REGRESSION of b4d1327 (index/catalog.go openCatalog, index/prune.go): another strata process " +
			"holds the Pebble catalog and this one gave up instead of waiting. Pebble reports a held lock as a bare " +
			"EAGAIN (\"resource temporarily unavailable\", fcntl F_SETLK in pebble/vfs/file_lock_unix.go); openCatalog " +
			"must treat it as \"wait\". Beside prune: prune must not hold the catalog while it waits for the store's " +
			"exclusive lock, or a committing backup and prune wait for each other.")
	}
}
