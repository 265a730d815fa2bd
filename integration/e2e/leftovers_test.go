package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/index"
)

// TestKilledBackupLeftovers SIGKILLs backups mid-way and checks what they
// leave: `prune --dry-run` lists exactly the killed backup's lock and the
// temporary files of its uploads (aged past prune's 10-minute rule, as a
// user pruning later would find them, with one more planted as an upload
// killed 20 minutes ago) and deletes none of them; `prune` then removes
// exactly those; and the lock of a second killed backup is removed by the
// next backup. The store checks clean and the versions restore throughout.
func TestKilledBackupLeftovers(t *testing.T) {
	e := newEnv(t)
	src := e.path("src")
	writeRandom(t, filepath.Join(src, "small"), 30, 1<<20)
	v1 := e.backup("t", src)
	sums1 := treeSums(t, src)
	writeRandom(t, filepath.Join(src, "big"), 31, 384<<20)

	locks := e.killBackup(src)
	temps := append(e.temps(), filepath.Join("packs", "00", tempPrefix+"0123456789abcdef-00aa"))
	plant(t, filepath.Join(e.store, temps[len(temps)-1]))
	aged := time.Now().Add(-20 * time.Minute)
	for _, name := range temps {
		if err := os.Chtimes(filepath.Join(e.store, name), aged, aged); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(temps)
	t.Logf("the killed backup left locks %q and %d temporary files (one more planted)", locks, len(temps)-1)

	dry := e.prune("--dry-run")
	sameNames(t, "prune --dry-run: temporaries", dry.Temporaries, temps)
	sameNames(t, "prune --dry-run: stale locks", staleLockNames(dry.StaleLocks), locks)
	for _, name := range append(slices.Clone(temps), locks...) {
		if _, err := os.Stat(filepath.Join(e.store, name)); err != nil {
			t.Errorf("prune --dry-run removed %s: %v", name, err)
		}
	}
	res := e.prune()
	sameNames(t, "prune: temporaries removed", res.Temporaries, dry.Temporaries)
	sameNames(t, "prune: stale locks removed", staleLockNames(res.StaleLocks), staleLockNames(dry.StaleLocks))
	if left := e.temps(); len(left) > 0 {
		t.Errorf("temporary files left after prune: %q", left)
	}
	if left := e.locks(); len(left) > 0 {
		t.Errorf("locks left after prune: %q", left)
	}
	e.ok("check")

	locks = e.killBackup(src)
	if len(locks) == 0 {
		t.Fatal("the second killed backup left no lock to remove")
	}
	v2 := e.backup("t", src)
	if left := e.locks(); len(left) > 0 {
		t.Errorf("locks left after the next backup: %q (the killed backup's were %q)", left, locks)
	}
	e.ok("check")
	sameTree(t, spec(v1), sums1, treeSums(t, e.restore(v1)))
	sameTree(t, spec(v2), treeSums(t, src), treeSums(t, e.restore(v2)))
}

// killBackup starts a backup of src, SIGKILLs it once it has written a
// pack, while an upload is in flight if one is seen before it has written
// a few, and returns the lock objects left in the store.
func (e *env) killBackup(src string) []string {
	e.t.Helper()
	before := e.packs()
	b := e.start("backup", "posix", "--cluster", "c", "--db", "d", "t="+src)
	if !waitFor(func() bool {
		n := len(e.packs()) - len(before)
		return n > 0 && len(e.temps()) > 0 || n >= 4 || b.exited()
	}) {
		e.t.Fatal("the backup wrote no pack within the deadline")
	}
	if b.exited() {
		e.t.Fatalf("the backup finished before it could be killed; make the source bigger:\n%s", b.wait())
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		e.t.Fatalf("kill the backup: %v", err)
	}
	if r := b.wait(); r.code == 0 {
		e.t.Fatalf("the killed backup reports success:\n%s", r)
	}
	return e.locks()
}

// prune runs prune --json with args and returns its result.
func (e *env) prune(args ...string) index.PruneResult {
	e.t.Helper()
	r := e.ok(append([]string{"--json", "prune"}, args...)...)
	var res index.PruneResult
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		e.t.Fatalf("parse prune --json: %v\n%s", err, r)
	}
	return res
}

// locks lists the store's lock objects (relative names, sorted).
func (e *env) locks() []string {
	e.t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.store, "locks"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range ents {
		if !strings.HasPrefix(d.Name(), tempPrefix) {
			out = append(out, "locks/"+d.Name())
		}
	}
	return out
}

func staleLockNames(ls []index.StaleLock) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

// sameNames fails the test unless got and want hold the same names.
func sameNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("%s: %q, want %q", what, g, w)
	}
}

// plant writes a file as an upload killed mid-way would leave it.
func plant(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("partial upload"), 0o600); err != nil {
		t.Fatal(err)
	}
}
