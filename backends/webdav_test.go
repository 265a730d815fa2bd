package backends_test

import (
	"context"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/webdav" // registers "serve/start" type=webdav
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/rc"

	"github.com/stratabackup/strata/backends/backendtest"
)

// startWebDAV runs rclone's own WebDAV server in this process, serving a
// fresh local directory, and returns its address.
func startWebDAV(t *testing.T, user, pass string) string {
	t.Helper()
	out, err := rc.Calls.Get("serve/start").Fn(context.Background(), rc.Params{
		"type": "webdav",
		"fs":   t.TempDir(),
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
	addr := startWebDAV(t, "strata", "s3cret")
	b := open(t, ":webdav,url='http://"+addr+"',user=strata,pass="+obscure.MustObscure("s3cret")+":repo")
	backendtest.Run(t, b)
}
