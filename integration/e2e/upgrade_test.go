package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/integration/harness"
)

// previousRelease is the last commit that writes store format 2 (before
// entries recorded owners).
const previousRelease = "ee43113"

// TestUpgradeFromPreviousRelease: a store the previous release made and
// backed up into opens with this build, which reads its old versions, backs
// up into it (moving it to the current format) and restores both; the previous
// release then refuses the store with a message naming the format.
func TestUpgradeFromPreviousRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the previous release")
	}
	root := t.TempDir()
	e := &env{t: t, root: root, store: filepath.Join(root, "store"), cache: filepath.Join(root, "cache")}
	old := *e
	old.bin = buildRelease(t, previousRelease)
	src := e.path("src")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("first"))
	writeFile(t, filepath.Join(src, "dir/b.txt"), []byte("unchanged"))
	old.ok("init")
	old.ok("backup", "posix", "--cluster", "c", "--db", "d", "t="+src)

	writeFile(t, filepath.Join(src, "a.txt"), []byte("second"))
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
	r := old.run("versions")
	if r.code != 1 {
		t.Fatalf("previous release on the upgraded store: exit %d, want 1\n%s", r.code, r)
	}
	if out := r.stdout + r.stderr; !strings.Contains(out, fmt.Sprintf("store format %d", format.FormatVersion)) || !strings.Contains(out, "reads formats 1 to 2") {
		t.Errorf("previous release on the upgraded store said %q; want a refusal naming format %d", out, format.FormatVersion)
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
	if err := buildStrata(wt, bin); err != nil {
		t.Fatalf("build %s: %v", commit, err)
	}
	return bin
}
