package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
)

// previousRelease is the last commit that writes store format 2 (before
// entries recorded owners).
const previousRelease = "ee43113"

// TestUpgradeFromPreviousRelease: a store the previous release made and
// backed up into opens with this build, which reads its old versions, backs
// up into it (moving it to format 3) and restores both; the previous
// release then refuses the store with a message naming the format.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the previous release")
	}
	old := buildRelease(t, previousRelease)
	root := t.TempDir()
	e := &env{t: t, root: root, store: filepath.Join(root, "store"), cache: filepath.Join(root, "cache")}
	src := e.path("src")
	writeFiles(t, src, map[string]string{"a.txt": "first", "dir/b.txt": "unchanged"})
	runOld(t, e, old, 0, "init")
	runOld(t, e, old, 0, "backup", "posix", "--cluster", "c", "--db", "d", "t="+src)

	writeFiles(t, src, map[string]string{"a.txt": "second"})
	v2 := e.backup("t", src)
	vs := e.versions()
	if len(vs) != 2 {
		t.Fatalf("this build sees %d versions after upgrading, want 2: %+v", len(vs), vs)
	}
	for i, want := range []string{"first", "second"} {
		dst := e.restore(vs[i])
		if got := readFile(t, filepath.Join(dst, "a.txt")); string(got) != want {
			t.Errorf("version %d restored a.txt = %q, want %q", i, got, want)
		}
	}
	if v2.Stats.NewBytes == 0 || v2.Stats.NewBytes > 1024 {
		t.Errorf("upgrading backup stored %d new bytes; want only the changed file's chunk", v2.Stats.NewBytes)
	}
	r := runOld(t, e, old, 1, "versions")
	if !strings.Contains(r, "store format 3") || !strings.Contains(r, "reads formats 1 to 2") {
		t.Errorf("previous release on the upgraded store said %q; want a refusal naming format 3", r)
	}
	e.ok("check")
}

// buildRelease builds cmd/strata as of commit into a temp dir, from a git
// worktree of this repository.
func buildRelease(t *testing.T, commit string) string {
	t.Helper()
	repo := harness.Root()
	if err := exec.Command("git", "-C", repo, "cat-file", "-e", commit+"^{commit}").Run(); err != nil {
		// Not a server or FUSE: a shallow clone lacks the history, which
		// says nothing of the product, so this skips even in CI.
		t.Skipf("skipping: commit %s is not in this clone's history (a shallow clone?)", commit)
	}
	dir := t.TempDir()
	wt := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "-C", repo, "worktree", "add", "--detach", wt, commit).CombinedOutput(); err != nil {
		t.Fatalf("git worktree add %s: %v\n%s", commit, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("git", "-C", repo, "worktree", "remove", "--force", wt).Run() })
	bin := filepath.Join(dir, "strata-"+commit)
	build := exec.Command("go", "build", "-o", bin, "./cmd/strata")
	build.Dir = wt
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", commit, err, out)
	}
	return bin
}

// runOld runs another build of strata on e's store and catalog, checks its
// exit status and returns its combined output.
func runOld(t *testing.T, e *env, bin string, wantCode int, args ...string) string {
	t.Helper()
	c := exec.Command(bin, append([]string{"--quiet"}, args...)...)
	c.Env = append(os.Environ(), "STRATA_STORE="+e.store, "STRATA_CACHE="+e.cache)
	out, err := c.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	if code != wantCode {
		t.Fatalf("%s %v: exit %d, want %d\n%s", filepath.Base(bin), args, code, wantCode, out)
	}
	return string(out)
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, data := range files {
		path := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
