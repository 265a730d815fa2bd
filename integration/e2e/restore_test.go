package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/zeebo/blake3"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/integration/harness"
)

// restoreSource builds a tree of small files plus a few large ones and
// backs it up; it returns the version and the tree's sums.
func restoreSource(t *testing.T, e *env, small int, large int64) (index.Version, map[string]string, map[string][]byte) {
	t.Helper()
	src := e.path("src")
	content := map[string][]byte{}
	for i := 0; i < small; i++ {
		name := filepath.Join("dir"+string(rune('a'+i%5)), "f"+strconv.Itoa(i))
		content[name] = randomBytes(uint64(1000+i), 2000+i*7)
		writeFile(t, filepath.Join(src, name), content[name])
	}
	for i := 0; i < 3 && large > 0; i++ {
		writeRandom(t, filepath.Join(src, "big"+strconv.Itoa(i)), uint64(50+i), large)
	}
	return e.backup("t", src), treeSums(t, src), content
}

// noWrongFile fails the test when a file under its final name in target
// differs from the version (want), or when an unexpected name is there;
// it returns the number of restore temporaries found.
func noWrongFile(t *testing.T, what string, want map[string]string, target string) (temps int) {
	t.Helper()
	for rel, sum := range treeSums(t, target) {
		if strings.HasPrefix(filepath.Base(rel), ".strata-restore-") {
			temps++
			continue
		}
		w, ok := want[rel]
		if rel == "." {
			continue
		}
		if !ok {
			t.Errorf("%s: unexpected %s in the target", what, rel)
		} else if w != sum {
			t.Errorf("%s: %s is under its final name with content that differs from the version", what, rel)
		}
	}
	return temps
}

// corruptChunk flips a byte inside the stored chunk of a small file (one
// chunk, addressed by the BLAKE3 of its content).
func corruptChunk(t *testing.T, e *env, content []byte) {
	t.Helper()
	id := blake3.Sum256(content)
	for name := range e.packs() {
		pack := filepath.Join(e.store, name)
		data, err := os.ReadFile(pack)
		if err != nil || !strings.Contains(string(data[len(data)-min(len(data), 1<<20):]), string(id[:])) {
			continue
		}
		flipByte(t, pack, blobOffset(t, pack, id))
		return
	}
	t.Fatalf("no pack holds chunk %x", id)
}

func TestRestoreCorruptChunkLeavesNoPartialFile(t *testing.T) {
	e := newEnv(t)
	v, want, content := restoreSource(t, e, 200, 4<<20)
	victim := filepath.Join("dirc", "f7")
	corruptChunk(t, e, content[victim])

	target := e.path("out")
	r := e.run("restore", spec(v), target)
	if r.code != 1 || !strings.Contains(r.stderr, victim) || !strings.Contains(r.stderr, "1 of ") {
		t.Fatalf("restore over a corrupt chunk: want exit 1 naming %s and 1 failed\n%s", victim, r)
	}
	if n := noWrongFile(t, "after the failed restore", want, target); n != 0 {
		t.Errorf("%d temporaries left after a clean failure", n)
	}
	if _, err := os.Lstat(filepath.Join(target, victim)); !os.IsNotExist(err) {
		t.Errorf("%s exists under its final name after its chunk failed: %v", victim, err)
	}
	r = e.run("restore", "--path", victim, spec(v), e.path("one"))
	if r.code != 1 {
		t.Fatalf("restore --path of the corrupt file: want exit 1\n%s", r)
	}
	if _, err := os.Lstat(filepath.Join(e.path("one"), filepath.Base(victim))); !os.IsNotExist(err) {
		t.Errorf("the corrupt file was left under its final name: %v", err)
	}
}

func TestRestoreConflictsListedBeforeAnyWrite(t *testing.T) {
	e := newEnv(t)
	v, want, _ := restoreSource(t, e, 50, 0)
	target := e.path("out")
	mine := map[string]string{filepath.Join("dira", "f0"): "mine", filepath.Join("dirb", "f1"): "also mine", "unrelated": "kept"}
	writeFiles(t, target, mine)
	before := treeSums(t, target)

	r := e.run("restore", spec(v), target)
	if r.code != 2 {
		t.Fatalf("restore into a target with conflicts: want exit 2\n%s", r)
	}
	for _, name := range []string{"dira/f0", "dirb/f1"} {
		if !strings.Contains(r.stderr, name) {
			t.Errorf("the conflict list lacks %s:\n%s", name, r.stderr)
		}
	}
	sameTree(t, "target after the refused restore", before, treeSums(t, target))

	r = e.ok("restore", "--dry-run", spec(v), target)
	if !strings.Contains(r.stdout, "conflict") || !strings.Contains(r.stdout, "write") {
		t.Errorf("dry run does not list writes and conflicts:\n%s", r)
	}
	sameTree(t, "target after the dry run", before, treeSums(t, target))

	e.ok("restore", "--overwrite", spec(v), target)
	want["unrelated"] = fileSum(t, filepath.Join(target, "unrelated"))
	sameTree(t, "after --overwrite", want, treeSums(t, target))
}

func TestRestoreDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		harness.Unavailable(t, "a tmpfs mount needs root")
	}
	e := newEnv(t)
	v, want, _ := restoreSource(t, e, 100, 6<<20)
	target := e.path("small-disk")
	if err := os.MkdirAll(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", target).CombinedOutput(); err != nil {
		harness.Unavailable(t, "mount a 12 MiB tmpfs: %v: %s", err, out)
	}
	defer func() { _ = exec.Command("umount", target).Run() }()

	r := e.run("restore", spec(v), target)
	if r.code == 0 {
		t.Fatalf("restore of ~18 MiB into 12 MiB succeeded?\n%s", r)
	}
	if !strings.Contains(r.stderr, "no space left") {
		t.Errorf("the error does not say the disk is full:\n%s", r)
	}
	if n := noWrongFile(t, "after the full disk", want, target); n != 0 {
		t.Errorf("%d temporaries left after a clean failure", n)
	}
	// With room made, a rerun completes the restore exactly.
	if out, err := exec.Command("mount", "-o", "remount,size=64m", target).CombinedOutput(); err != nil {
		t.Fatalf("grow the tmpfs: %v: %s", err, out)
	}
	e.ok("restore", spec(v), target)
	sameTree(t, "rerun after making room", want, treeSums(t, target))
}

func TestRestoreKilledThenRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs a few hundred MiB")
	}
	e := newEnv(t)
	v, want, _ := restoreSource(t, e, 2000, 96<<20)
	target := e.path("out")
	b := e.start("restore", spec(v), target)
	// Kill once some files are complete (directories come first).
	started := func() bool {
		done := 0
		_ = filepath.WalkDir(target, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.HasPrefix(d.Name(), ".strata-restore-") {
				done++
			}
			return nil
		})
		return done >= 100 || b.exited()
	}
	if !waitFor(started) || b.exited() {
		t.Fatalf("the restore ended before it could be killed:\n%s", b.wait())
	}
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	b.wait()
	temps := noWrongFile(t, "after SIGKILL", want, target)
	t.Logf("the killed restore left %d temporaries", temps)

	r := e.ok("--json", "restore", spec(v), target)
	var res struct {
		Restored, Skipped, Failed int
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("parse restore --json: %v\n%s", err, r)
	}
	if res.Failed != 0 || res.Restored+res.Skipped != len(want)-countDirs(want) {
		t.Errorf("rerun: %+v, want every one of %d files restored or skipped", res, len(want)-countDirs(want))
	}
	if res.Skipped == 0 {
		t.Errorf("rerun rewrote every file; the ones the killed run completed should be skipped: %+v", res)
	}
	if n := noWrongFile(t, "after the rerun", want, target); n != 0 {
		t.Errorf("%d temporaries of the killed run left after the rerun", n)
	}
	sameTree(t, "after the rerun", want, treeSums(t, target))
}

func countDirs(sums map[string]string) int {
	n := 0
	for _, s := range sums {
		if s == "dir" {
			n++
		}
	}
	return n
}
