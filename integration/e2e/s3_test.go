package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stratabackup/strata/backends/backendtest"
)

// TestS3Store runs the CLI end to end against rclone's own S3 server (in
// this test process; strata connects over TCP): init, two backups, a
// mount, restores, check, forget and prune. The store location carries
// the secret key, which must appear in no command's output.
func TestS3Store(t *testing.T) {
	const secret = "S3-SECRET-must-not-leak"
	addr := backendtest.StartS3(t, "strata-key", secret, "bucket")
	loc := ":s3,provider=Rclone,endpoint='http://" + addr + "',access_key_id=strata-key,secret_access_key=" + secret + ":bucket/repo"
	e := newEnvAt(t, loc)
	var outputs []result
	run := func(args ...string) result {
		t.Helper()
		r := e.ok(args...)
		outputs = append(outputs, r)
		return r
	}

	src := e.path("src")
	writeRandom(t, filepath.Join(src, "big"), 1, 9<<20)
	writeRandom(t, filepath.Join(src, "dir", "small"), 2, 3000)
	outputs = append(outputs, e.ok("--json", "backup", "posix", "--cluster", "c", "--db", "d", "t="+src))
	writeRandom(t, filepath.Join(src, "dir", "new"), 3, 70000)
	outputs = append(outputs, e.ok("--json", "backup", "posix", "--cluster", "c", "--db", "d", "t="+src))
	want := treeSums(t, src)
	vs := e.versions()
	if len(vs) != 2 {
		t.Fatalf("%d versions on S3, want 2", len(vs))
	}

	mp := e.mount()
	sameTree(t, "mount of the S3 store", want, treeSums(t, versionDir(mp, vs[1])))

	dst := e.path("restored")
	run("restore", "c/d/t/latest", dst)
	sameTree(t, "restore from S3", want, treeSums(t, dst))
	run("check")
	run("forget", "--keep-last", "1")
	run("prune")
	run("check")
	dst2 := e.path("restored2")
	run("restore", "c/d/t/latest", dst2)
	sameTree(t, "restore from S3 after prune", want, treeSums(t, dst2))

	// Also a failing command: its error names the store, without the secret.
	bad := e.run("restore", "c/d/nosuch/latest", e.path("x"))
	if bad.code == 0 {
		t.Fatalf("restore of a missing table succeeded: %s", bad)
	}
	outputs = append(outputs, bad)
	for _, r := range outputs {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("the secret key appears in the output of strata %s:\n%s", strings.Join(r.args, " "), r)
		}
	}
	if _, err := os.Stat(e.cache); err != nil {
		t.Fatalf("no local catalog for the S3 store: %v", err)
	}
}
