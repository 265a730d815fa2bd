package e2e

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKillDuringBackup sends SIGKILL to a backup that has already written
// packs: the store must stay consistent (check passes), keep its earlier
// versions intact and show no half version, take the next backup, and
// prune must delete the packs the killed backup left behind.
func TestKillDuringBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a 1.5 GiB source")
	}
	e := newEnv(t)
	src, other := e.path("src"), e.path("other")
	writeRandom(t, filepath.Join(src, "small"), 10, 2<<20)
	writeRandom(t, filepath.Join(other, "f"), 11, 1<<20)
	e.backup("t", src)
	e.backup("other", other)
	before := e.versions()
	beforeSums := e.versionSums(before)

	writeRandom(t, filepath.Join(src, "huge"), 12, 1536<<20)
	packsBefore := e.packs()
	b := e.start("backup", "posix", "--cluster", "c", "--db", "d", "t="+src)
	if !waitFor(func() bool { return len(e.packs()) >= len(packsBefore)+3 || b.exited() }) {
		t.Fatal("the backup wrote no packs within the deadline")
	}
	if b.exited() {
		t.Fatalf("the backup finished before it could be killed; make the source bigger:\n%s", b.wait())
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill the backup: %v", err)
	}
	if r := b.wait(); r.code == 0 {
		t.Fatalf("the killed backup reports success:\n%s", r)
	}
	packsKilled := e.packs()
	orphans := newNames(packsBefore, packsKilled)
	t.Logf("the killed backup left %d packs (and %d temporary files)", len(orphans), len(e.temps()))

	e.ok("check")
	if after := e.versions(); !reflect.DeepEqual(after, before) {
		t.Fatalf("versions changed by the killed backup:\ngot  %+v\nwant %+v", after, before)
	}
	for i, s := range e.versionSums(before) {
		sameTree(t, "after kill "+spec(before[i]), beforeSums[i], s)
	}

	v := e.backup("t", src)
	if n := len(e.versions()); n != len(before)+1 {
		t.Fatalf("after the next backup: %d versions, want %d", n, len(before)+1)
	}
	want := treeSums(t, src)

	packsBackup := e.packs()
	e.ok("prune")
	packsPruned := e.packs()
	t.Logf("packs: %d before the killed backup, %d after it, %d after the next backup, %d after prune",
		len(packsBefore), len(packsKilled), len(packsBackup), len(packsPruned))
	for name := range orphans {
		if _, ok := packsPruned[name]; ok {
			t.Errorf("prune kept %s, written by the killed backup", name)
		}
	}
	for name := range packsBackup {
		if _, orphan := orphans[name]; !orphan {
			if _, ok := packsPruned[name]; !ok {
				t.Errorf("prune deleted %s, which a version uses", name)
			}
		}
	}
	if got, want := len(packsPruned), len(packsBackup)-len(orphans); got != want {
		t.Errorf("after prune: %d packs, want %d (%d minus the %d orphans)", got, want, len(packsBackup), len(orphans))
	}
	if tmp := e.temps(); len(tmp) > 0 {
		t.Logf("NOTE: %d temporary files of the killed backup stay in the store after prune (prune removes them only once 10 minutes old: an upload may still be running; TestKilledBackupLeftovers covers that): %v", len(tmp), tmp)
	}
	e.ok("check")
	sameTree(t, "after prune "+spec(v), want, treeSums(t, e.restore(v)))
	for i, s := range e.versionSums(before) {
		sameTree(t, "after prune "+spec(before[i]), beforeSums[i], s)
	}
}

// waitFor polls cond until it holds or a generous deadline passes (a guard
// against hangs, not a timing assertion).
func waitFor(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// newNames returns the names in after that are not in before.
func newNames(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for n, s := range after {
		if _, ok := before[n]; !ok {
			out[n] = s
		}
	}
	return out
}

// temps lists the local backend's temporary files anywhere in the store.
func (e *env) temps() []string {
	e.t.Helper()
	var out []string
	err := filepath.WalkDir(e.store, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			rel, _ := filepath.Rel(e.store, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		e.t.Fatalf("walk %s: %v", e.store, err)
	}
	return out
}
