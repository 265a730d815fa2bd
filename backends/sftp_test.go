package backends_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/rclone/rclone/cmd/serve/sftp" // registers "serve/start" type=sftp
	"github.com/rclone/rclone/fs/config/obscure"
	"github.com/rclone/rclone/fs/rc"
	"golang.org/x/crypto/ssh"

	"github.com/stratabackup/strata/backends/backendtest"
)

// startSFTP runs rclone's own SFTP server in this process, serving the
// local directory served, and returns its address.
func startSFTP(t *testing.T, served, user, pass string) string {
	t.Helper()
	start := rc.Calls.Get("serve/start")
	stop := rc.Calls.Get("serve/stop")
	if start == nil || stop == nil {
		t.Fatal("rclone serve/start is not registered")
	}
	out, err := start.Fn(context.Background(), rc.Params{
		"type": "sftp",
		"fs":   served,
		"addr": "127.0.0.1:0",
		"user": user,
		"pass": pass,
		"key":  []string{writeHostKey(t)},
	})
	if err != nil {
		t.Fatalf("start rclone serve sftp: %v", err)
	}
	t.Cleanup(func() { _, _ = stop.Fn(context.Background(), rc.Params{"id": out["id"]}) })
	return out["addr"].(string)
}

// writeHostKey writes a fresh ed25519 host key, so the server does not
// create keys in rclone's cache directory.
func writeHostKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "host_key")
	if err := os.WriteFile(p, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sftpLocation is an on-the-fly sftp remote for the server at addr.
func sftpLocation(t *testing.T, addr, user, pass, dir string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return ":sftp,host=" + host + ",port=" + port + ",user=" + user +
		",pass=" + obscure.MustObscure(pass) + ",shell_type=none:" + dir
}

func TestSFTPConformance(t *testing.T) {
	addr := startSFTP(t, t.TempDir(), "strata", "s3cret")
	b := open(t, sftpLocation(t, addr, "strata", "s3cret", "repo"))
	backendtest.Run(t, b)
}

// Temporaries of killed uploads are found and removed through SFTP. The
// server is fresh: its file cache must not have listed the directory
// before the test plants them on its disk.
func TestSFTPRemoveTemporary(t *testing.T) {
	served := t.TempDir()
	dir := plantTemporaries(t, filepath.Join(served, "repo"))
	addr := startSFTP(t, served, "strata", "s3cret")
	testRemoveTemporary(t, open(t, sftpLocation(t, addr, "strata", "s3cret", "repo")), dir)
}
