package index

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stratabackup/strata/index/lock"
	"github.com/stratabackup/strata/sources"
)

// What a killed backup leaves (an upload's temporary file 20 minutes old,
// its lock) is listed by prune --dry-run, which deletes nothing, and then
// removed by prune, exactly as the dry run listed; a fresh temporary (an
// upload that may be running) stays.
func TestPruneDryRunListsTemporariesAndStaleLocks(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, be := newTestStoreIn(t, root, t.TempDir())
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v := backupBytes(t, st, obj, time.Unix(1700000000, 0).UTC(), randBytes(1, 1<<20))

	oldTemp, freshTemp := "packs/ab/.strata-tmp-0123-abcd", "packs/ab/.strata-tmp-4567-abce"
	plantFile(t, root, oldTemp, time.Now().Add(-20*time.Minute))
	plantFile(t, root, freshTemp, time.Now())
	host, _ := os.Hostname()
	killed := lock.Info{Op: "backup", Host: host, PID: exitedPID(t), Time: time.Now().UTC()}
	data, _ := json.Marshal(killed)
	if err := be.Put(ctx, "locks/killed", data); err != nil {
		t.Fatal(err)
	}

	dry, err := st.Prune(ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkPruned(t, "prune --dry-run", dry, []string{oldTemp}, []string{"locks/killed"})
	for _, name := range []string{oldTemp, freshTemp, "locks/killed"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("%s after the dry run: %v", name, err)
		}
	}
	res, err := st.Prune(ctx, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkPruned(t, "prune", res, dry.Temporaries, staleNames(dry.StaleLocks))
	for name, want := range map[string]bool{oldTemp: false, freshTemp: true, "locks/killed": false} {
		if _, err := os.Stat(filepath.Join(root, name)); (err == nil) != want {
			t.Errorf("%s after prune: exists %v, want %v", name, err == nil, want)
		}
	}
	if err := checkVersion(ctx, st, v, randBytes(1, 1<<20)); err != nil {
		t.Fatalf("the version after prune: %v", err)
	}
}

func checkPruned(t *testing.T, what string, res PruneResult, temps, locks []string) {
	t.Helper()
	if !slices.Equal(res.Temporaries, temps) || res.TempRemoved != len(temps) {
		t.Errorf("%s: temporaries %q (%d), want %q", what, res.Temporaries, res.TempRemoved, temps)
	}
	if got := staleNames(res.StaleLocks); !slices.Equal(got, locks) {
		t.Errorf("%s: stale locks %q, want %q", what, got, locks)
	}
	if res.PacksDeleted+res.PacksRewritten != 0 {
		t.Errorf("%s: %+v, but every pack is in use", what, res)
	}
}

func staleNames(s []lock.Stale) []string {
	var out []string
	for _, l := range s {
		out = append(out, l.Name)
	}
	return out
}

// plantFile writes a file under root as of mtime.
func plantFile(t *testing.T, root, name string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// exitedPID returns the pid of a process that has exited.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	return cmd.Process.Pid
}
