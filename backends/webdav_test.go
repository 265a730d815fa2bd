package backends_test

import (
	"context"
	"path/filepath"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/webdav" // registers "serve/start" type=webdav
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/rc"

	"github.com/stratabackup/strata/backends/backendtest"
)

// startWebDAV runs rclone's own WebDAV server in this process, serving the
// local directory served, and returns its address.
func startWebDAV(t *testing.T, served, user, pass string) string {
	t.Helper()
	out, err := rc.Calls.Get("serve/start").Fn(context.Background(), rc.Params{
		"type": "webdav",
		"fs":   served,
		"addr": []string{"127.0.0.1:0"},
		"user": user,
		"pass": pass,
	})
	if err != nil {
		t.Fatalf("start rclone serve webdav: %v", err)
	}
	t.Cleanup(func() { _, _ = rc.Calls.Get("serve/stop").Fn(context.Background(), rc.Params{"id": out["id"]}) })
	return out["addr"].(string)
}

func TestWebDAVConformance(t *testing.T) {
	addr := startWebDAV(t, t.TempDir(), "strata", "s3cret")
	b := open(t, ":webdav,url='http://"+addr+"',user=strata,pass="+obscure.MustObscure("s3cret")+":repo")
	backendtest.Run(t, b)
}

// Temporaries of killed uploads are found and removed through WebDAV. The
// server is fresh: its file cache must not have listed the directory
// before the test plants them on its disk.
func TestWebDAVRemoveTemporary(t *testing.T) {
	served := t.TempDir()
	dir := plantTemporaries(t, filepath.Join(served, "repo"))
	addr := startWebDAV(t, served, "strata", "s3cret")
	testRemoveTemporary(t, open(t, ":webdav,url='http://"+addr+"',user=strata,pass="+obscure.MustObscure("s3cret")+":repo"), dir)
}
