package backendtest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/s3" // registers "serve/start" type=s3
	"github.com/rclone/rclone/fs/rc"
)

// StartS3 runs rclone's own S3 server (gofakes3 over a local directory) in
// the test's process with one bucket, and returns its address. Tests of
// the backends and end-to-end tests of the CLI (which connects to it over
// TCP) share it.
func StartS3(t testing.TB, keyID, secret, bucket string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, bucket), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := rc.Calls.Get("serve/start").Fn(context.Background(), rc.Params{
		"type":     "s3",
		"fs":       dir,
		"addr":     []string{"127.0.0.1:0"},
		"auth_key": []string{keyID + "," + secret},
	})
	if err != nil {
		t.Fatalf("start rclone serve s3: %v", err)
	}
	t.Cleanup(func() { _, _ = rc.Calls.Get("serve/stop").Fn(context.Background(), rc.Params{"id": out["id"]}) })
	return out["addr"].(string)
}
