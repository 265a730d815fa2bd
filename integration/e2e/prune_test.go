package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/index"
)

// TestPruneBesideBackup runs forget and prune while a long backup of
// another object is writing packs that no index lists yet: prune must wait
// for the backup (the store's lock) and delete none of them; afterwards the
// store checks clean and the new version restores byte for byte.
func TestPruneBesideBackup(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a 768 MiB source")
	}
	e := newEnv(t)
	other, big := e.path("other"), e.path("big")
	writeRandom(t, filepath.Join(other, "old"), 20, 3<<20)
	e.backup("other", other)
	if err := os.Remove(filepath.Join(other, "old")); err != nil {
		t.Fatal(err)
	}
	writeRandom(t, filepath.Join(other, "new"), 21, 2<<20)
	kept := e.backup("other", other)
	keptSums := treeSums(t, other)
	writeRandom(t, filepath.Join(big, "data"), 22, 768<<20)
	writeRandom(t, filepath.Join(big, "dir/small"), 23, 1000)
	bigSums := treeSums(t, big)

	p0 := e.packs()
	b := e.start("--json", "backup", "posix", "--cluster", "c", "--db", "d", "big="+big)
	if !waitFor(func() bool { return len(e.packs()) > len(p0) || b.exited() }) {
		t.Fatal("the backup wrote no pack within the deadline")
	}
	if b.exited() {
		t.Fatalf("the backup ended before prune could start; make the source bigger:\n%s", b.wait())
	}
	e.ok("forget", "--keep-last", "1", "c/d/other")
	pr := e.run("--json", "prune")
	// The backup commits its manifest before it releases its lock, and
	// prune takes the exclusive lock only when no other lock is left: so
	// once prune has returned, the manifest must be there.
	manifests, _ := filepath.Glob(filepath.Join(e.store, "versions", "c", "d", "big", "*"))
	br := b.wait()
	if pr.code != 0 {
		diagnose(t, pr)
		t.Fatalf("prune beside a backup failed:\n%s", pr)
	}
	if br.code != 0 {
		diagnose(t, br)
		t.Fatalf("backup beside prune failed:\n%s", br)
	}
	if len(manifests) != 1 {
		t.Errorf("when prune returned, c/d/big had %d manifests, want 1: prune did not wait for the backup", len(manifests))
	}
	v := parseBackup(t, br)

	var res index.PruneResult
	if err := json.Unmarshal([]byte(pr.stdout), &res); err != nil {
		t.Fatalf("parse prune --json: %v\n%s", err, pr)
	}
	t.Logf("prune: %+v", res)
	if res.PacksDeleted+res.PacksRewritten == 0 {
		t.Errorf("prune freed nothing after forget removed a version with its own pack: %+v", res)
	}

	vs := e.versions()
	if len(vs) != 2 {
		t.Fatalf("want 2 versions (big and the kept other), got %+v", vs)
	}
	e.ok("check")
	sameTree(t, "big "+spec(v), bigSums, treeSums(t, e.restore(v)))
	sameTree(t, "other "+spec(kept), keptSums, treeSums(t, e.restore(kept)))
}
