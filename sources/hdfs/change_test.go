package hdfs

import (
	"context"
	"fmt"
	"os"
	"path"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestChangeDetection backs up a directory, then appends to one file
// (twice: within its last block and past it), rewrites another with the
// same bytes (new blocks, same checksum), rewrites a third with new
// bytes, sets the times of a fourth, and checks what the second backup read from the DataNodes:
// only the appended bytes and the changed file.
func TestChangeDetection(t *testing.T) {
	c := testClient(t)
	dir := testDir(t, c, harness.HDFSSnapshotDir+"/change")
	const bs = 1 << 20
	files := map[string]int{"grown": bs + 1000, "same": 5000, "changed": 7000, "untouched": 3 * bs}
	for name, size := range files {
		if err := putFile(c, path.Join(dir, name), content(name, size), 2, bs); err != nil {
			t.Fatal(err)
		}
	}
	s := newTestSource(t, "t="+dir)
	obj := s.cfg.objectOf("t", dir)
	w1 := sourcetest.NewWriter(nil)
	res1, err := s.Backup(context.Background(), obj, sources.NoPrevious{}, w1)
	must(t, err)
	total := int64(0)
	for _, n := range files {
		total += int64(n)
	}
	if got := res1.Meta["bytes_read"]; got != strconv.FormatInt(total, 10) {
		t.Errorf("first backup read %s bytes, want all %d", got, total)
	}
	v1 := w1.Version().WithInfo(sources.VersionInfo{Time: res1.At, Meta: res1.Meta})

	appended := append(content("a1", 2000), content("a2", bs)...)
	appendHDFS(t, c, path.Join(dir, "grown"), appended[:2000])
	appendHDFS(t, c, path.Join(dir, "grown"), appended[2000:])
	writeHDFS(t, c, path.Join(dir, "same"), content("same", files["same"]))
	writeHDFS(t, c, path.Join(dir, "changed"), content("changed2", files["changed"]))
	must(t, c.Chtimes(path.Join(dir, "untouched"), time.Unix(1e9, 0), time.Unix(1e9, 0))) // touched only: kept

	w2 := sourcetest.NewWriter(v1)
	res2, err := s.Backup(context.Background(), obj, v1, w2)
	must(t, err)
	t.Logf("second backup: %v", res2.Meta)
	want := int64(len(appended) + files["changed"])
	if got := res2.Meta["bytes_read"]; got != strconv.FormatInt(want, 10) {
		t.Errorf("second backup read %s bytes from the DataNodes, want %d (the appended bytes and the changed file)", got, want)
	}
	for k, v := range map[string]string{"files_appended": "1", "files_checksum_kept": "1", "files_kept": "2"} {
		if res2.Meta[k] != v {
			t.Errorf("second backup: %s = %s, want %s", k, res2.Meta[k], v)
		}
	}
	if got, want := string(w2.Data("grown")), string(append(content("grown", files["grown"]), appended...)); got != want {
		t.Errorf("grown file: %d bytes in the version, want %d", len(got), len(want))
	}
	if got := string(w2.Data("changed")); got != string(content("changed2", files["changed"])) {
		t.Error("changed file: the version holds other bytes")
	}
	if w2.NewBytes() > want {
		t.Errorf("second backup added %d new bytes, want at most the %d read", w2.NewBytes(), want)
	}
}

// TestLiveBackupIsFuzzy backs up a directory outside any snapshottable
// one: the version is marked fuzzy.
func TestLiveBackupIsFuzzy(t *testing.T) {
	c := testClient(t)
	dir := testDir(t, c, "/live")
	writeHDFS(t, c, dir+"/a", []byte("alpha"))
	s := newTestSource(t, "t="+dir)
	w := sourcetest.NewWriter(nil)
	res, err := s.Backup(context.Background(), s.cfg.objectOf("t", dir), sources.NoPrevious{}, w)
	must(t, err)
	if res.Meta["fuzzy"] != "true" || res.Meta["snapshot"] != "" || len(res.Warnings) == 0 {
		t.Errorf("live backup: meta %v, warnings %q; want fuzzy=true and a warning", res.Meta, res.Warnings)
	}
	if string(w.Data("a")) != "alpha" {
		t.Errorf("live backup: a = %q", w.Data("a"))
	}
}

// TestLeftoverSnapshotsDeleted plants the snapshot a killed run would
// leave (this host, a process that is gone) and one a person took; the
// next backup deletes the first, keeps the second, and leaves no
// snapshot of its own.
func TestLeftoverSnapshotsDeleted(t *testing.T) {
	c := testClient(t)
	dir := testDir(t, c, harness.HDFSSnapshotDir+"/leftover")
	writeHDFS(t, c, dir+"/a", []byte("alpha"))
	host, _ := os.Hostname()
	dead := deadPID(t)
	stale := fmt.Sprintf("%s%d.%d.1.%s", snapPrefix, time.Now().Unix(), dead, host)
	mine := fmt.Sprintf("manual-%d", time.Now().UnixNano())
	for _, n := range []string{stale, mine} {
		if _, err := c.CreateSnapshot(harness.HDFSSnapshotDir, n); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = c.DeleteSnapshot(harness.HDFSSnapshotDir, mine)
		_ = c.DeleteSnapshot(harness.HDFSSnapshotDir, stale)
	})
	s := newTestSource(t, "t="+dir)
	w := sourcetest.NewWriter(nil)
	if _, err := s.Backup(context.Background(), s.cfg.objectOf("t", dir), sources.NoPrevious{}, w); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(harness.HDFSSnapshotDir + "/.snapshot/" + stale); err == nil {
		t.Errorf("leftover snapshot %s was not deleted", stale)
	}
	if _, err := c.Stat(harness.HDFSSnapshotDir + "/.snapshot/" + mine); err != nil {
		t.Errorf("a snapshot strata did not make (%s) was deleted: %v", mine, err)
	}
	if n := strataSnapshots(t, c, harness.HDFSSnapshotDir); n != 0 {
		t.Errorf("%d strata snapshots left after the backup", n)
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{})
	must(t, err)
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if syscall.Kill(p.Pid, 0) == nil {
		t.Skip("pid reused at once")
	}
	return p.Pid
}
