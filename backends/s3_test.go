package backends_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/s3" // registers "serve/start" type=s3
	"github.com/rclone/rclone/fs/rc"

	"github.com/stratabackup/strata/backends/backendtest"
)

// startS3 runs rclone's own S3 server (gofakes3 over a local directory) in
// this process with one bucket, and returns its address.
func startS3(t *testing.T, keyID, secret, bucket string) string {
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

func TestS3Conformance(t *testing.T) {
	addr := startS3(t, "strata-key", "strata-secret", "bucket")
	b := open(t, ":s3,provider=Rclone,endpoint='http://"+addr+"',access_key_id=strata-key,secret_access_key=strata-secret:bucket/repo")
	backendtest.Run(t, b)
}
