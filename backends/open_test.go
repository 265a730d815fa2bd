package backends_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
)

// configDir holds the rclone config file the tests point RCLONE_CONFIG at;
// it must be set before the first Open, which reads the variable.
var configDir string

func TestMain(m *testing.M) {
	var err error
	if configDir, err = os.MkdirTemp("", "strata-backends-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	conf := "[disk]\ntype = local\n\n[alias-free]\ntype = memory\n"
	if err := os.WriteFile(filepath.Join(configDir, "rclone.conf"), []byte(conf), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("RCLONE_CONFIG", filepath.Join(configDir, "rclone.conf"))
	code := m.Run()
	os.RemoveAll(configDir)
	os.Exit(code)
}

func TestOpenConfiguredRemote(t *testing.T) {
	dir := t.TempDir()
	b := open(t, "disk:"+dir)
	if err := b.Put(context.Background(), "a/b", []byte("ab")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "b")); err != nil {
		t.Errorf("object not written through the configured remote: %v", err)
	}
	if got, want := b.Location(), "disk:"+dir; got != want {
		t.Errorf("Location() = %q, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	cases := []struct{ location, want string }{
		{"", "empty location"},
		{"nosuchremote:x", "nosuchremote"},
		{":nosuchbackend:x", "nosuchbackend"},
		{":s3,provider=Minio,endpoint=http://h:9000,secret_access_key=TOPSECRET:b", "must be quoted"},
		{":s3,provider=Minio:", "needs a bucket"},
	}
	for _, c := range cases {
		_, err := open2(c.location)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("Open(%q) error %v, want one mentioning %q and no secret", c.location, err, c.want)
		}
	}
}

// TestSecretsStayOut opens an S3 remote that cannot be reached: neither
// Location nor the failure may show its keys.
func TestSecretsStayOut(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	b, err := backends.Open(ctx, ":s3,provider=Minio,endpoint='http://127.0.0.1:1',access_key_id=KEYID42,secret_access_key=TOPSECRET:bucket/dir")
	if err != nil {
		t.Fatal(err)
	}
	if want := `:s3,endpoint="http://127.0.0.1:1",provider=Minio:bucket/dir`; b.Location() != want {
		t.Errorf("Location() = %q, want %q", b.Location(), want)
	}
	_, err = b.Stat(ctx, "packs/x")
	for _, s := range []string{b.Location(), fmt.Sprint(err)} {
		if strings.Contains(s, "TOPSECRET") || strings.Contains(s, "KEYID42") {
			t.Errorf("secret shown: %s", s)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "packs/x") {
		t.Errorf("stat on unreachable S3: %v, want an error naming the object", err)
	}
}
