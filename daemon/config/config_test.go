package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const base = `state_dir: /tmp/state
stores:
  main: {location: /tmp/store}
clusters:
  files:
    kind: posix
    options: {db: d, root: [a=/tmp/a]}
  shop:
    kind: mongodb
    options:
      uri: {env: TEST_URI}
`

func TestExampleIsValid(t *testing.T) {
	c, err := Parse("example.yaml", []byte(Example))
	if err != nil {
		t.Fatalf("the example config is invalid: %v", err)
	}
	if len(c.Policies) != 2 || c.Policies[0].Store != "main" || c.Policies[1].Cron == "" || c.Policies[0].Retention.Last != 24 {
		t.Fatalf("example parsed as %+v", c.Policies)
	}
	if c.Clusters["shop"].Options["uri"][0].Env != "STRATA_MONGODB_URI" {
		t.Fatalf("secret reference lost: %+v", c.Clusters["shop"])
	}
}

// TestErrors checks that each mistake is reported with the file, the line
// and the key path.
func TestErrors(t *testing.T) {
	cases := []struct {
		name, extra, want string
	}{
		{"bad interval", "policies:\n  - {name: p, cluster: files, interval: 1h}\n  - name: q\n    cluster: files\n    interval: 5x\n", `strata.yaml:16: policies[1].interval: "5x": not a duration`},
		{"unknown key", "colour: red\n", `strata.yaml:12: colour: unknown key`},
		{"unknown cluster", "policies:\n  - {name: p, cluster: nope, interval: 1h}\n", `strata.yaml:13: policies[0].cluster: "nope": no such cluster`},
		{"inline secret", "  db2:\n    kind: mongodb\n    options: {uri: mongodb://u:pw@h/}\n", `strata.yaml:14: clusters.db2.options.uri: a secret is never written in the config`},
		{"password-file by reference", "  cass:\n    kind: cassandra\n    options: {hosts: [h1], password-file: {file: /etc/strata/cass-pw}}\n", `strata.yaml:14: clusters.cass.options.password-file: names a file: give its path (password-file: /etc/strata/cass-pw)`},
		{"dsn-file by reference", "  pg:\n    kind: postgres\n    options: {dsn-file: {file: /etc/strata/pg-dsn}}\n", `clusters.pg.options.dsn-file: names a file: give its path`},
		{"unknown option", "  x:\n    kind: posix\n    options: {db: d, colour: red}\n", `strata.yaml:14: clusters.x.options.colour: unknown option of kind posix`},
		{"missing required option", "  x:\n    kind: posix\n    options: {root: a=/b}\n", `clusters.x.options: posix source: setting "db" is required`},
		{"unknown kind", "  x: {kind: oracle}\n", `strata.yaml:12: clusters.x.kind: unknown source kind "oracle"`},
		{"both interval and cron", "policies:\n  - {name: p, cluster: files, interval: 1h, cron: '* * * * *'}\n", `policies[0].cron: give an interval or a cron expression, not both`},
		{"bad cron", "policies:\n  - {name: p, cluster: files, cron: 'every day'}\n", `policies[0].cron: "every day"`},
		{"no schedule", "policies:\n  - {name: p, cluster: files}\n", `policies[0].interval: give an interval`},
		{"duplicate policy", "policies:\n  - {name: p, cluster: files, interval: 1h}\n  - {name: p, cluster: files, interval: 2h}\n", `policies[1].name: "p": already the name of the policy at line 13`},
		{"bad pattern", "policies:\n  - {name: p, cluster: files, interval: 1h, objects: ['d/[x']}\n", `policies[0].objects[0]: "d/[x"`},
		{"open listen without token", "api: {listen: '0.0.0.0:7878'}\n", `api.listen: "0.0.0.0:7878" is not a loopback address: set api.token_file`},
		{"bad retention", "policies:\n  - {name: p, cluster: files, interval: 1h, retention: {keep_last: -1}}\n", `policies[0].retention.keep_last: "-1": want a whole number above 0`},
		{"bad webhook", "webhooks:\n  - {url: 'ftp://x'}\n", `webhooks[0].url: "ftp://x": want an http:// or https:// URL`},
		{"bad class", "webhooks:\n  - {url: 'http://x', min_class: loud}\n", `webhooks[0].min_class: "loud"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("strata.yaml", []byte(base+tc.extra))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestPasswordFileIsAPath checks that a Cassandra cluster's
// password-file is written as a plain path and reaches the source as
// that path, never as the file's content (the password).
func TestPasswordFileIsAPath(t *testing.T) {
	c, err := Parse("strata.yaml", []byte(base+"  cass:\n    kind: cassandra\n    options: {hosts: [h1], password-file: /etc/strata/cass-pw}\n"))
	if err != nil {
		t.Fatalf("a password-file path is refused: %v", err)
	}
	cfg, err := c.Clusters["cass"].SourceConfig()
	if err != nil || cfg.Get("password-file") != "/etc/strata/cass-pw" {
		t.Fatalf("password-file resolved to %q, %v; want the path", cfg.Get("password-file"), err)
	}
}

// TestWebhookURLReference checks that a webhook URL may be given as
// {env: VAR} or {file: PATH}, and that a bad one is reported without its
// path or query, where its secret lives.
func TestWebhookURLReference(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(file, []byte("https://hooks.example/services/T0/B0/FILESECRET\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_HOOK", "https://u:ENVSECRET@hooks.example/x?token=Q")
	c, err := Parse("strata.yaml", []byte(base+"webhooks:\n  - {url: {env: TEST_HOOK}}\n  - {url: {file: "+file+"}, min_class: error}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Webhooks) != 2 || c.Webhooks[0].URL != "https://u:ENVSECRET@hooks.example/x?token=Q" || c.Webhooks[1].URL != "https://hooks.example/services/T0/B0/FILESECRET" {
		t.Fatalf("webhooks %+v", c.Webhooks)
	}
	for _, tc := range []struct{ env, want string }{
		{"", "TEST_HOOK is not set"},
		{"ftp://u:ENVSECRET@hooks.example/x?token=QSECRET", `"ftp://hooks.example": want an http:// or https:// URL`},
	} {
		t.Setenv("TEST_HOOK", tc.env)
		_, err := Parse("strata.yaml", []byte(base+"webhooks:\n  - {url: {env: TEST_HOOK}}\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("url from %q: %v; want an error containing %q, without the secret", tc.env, err, tc.want)
		}
	}
}

func TestSecretsResolvedAtUseAndNeverShown(t *testing.T) {
	c, err := Parse("strata.yaml", []byte(base))
	if err != nil {
		t.Fatal(err)
	}
	shop := c.Clusters["shop"]
	t.Setenv("TEST_URI", "")
	if _, err := shop.SourceConfig(); err == nil || !strings.Contains(err.Error(), "TEST_URI is not set") {
		t.Fatalf("unset env var: %v", err)
	}
	t.Setenv("TEST_URI", "mongodb://user:s3cret@host/")
	cfg, err := shop.SourceConfig()
	if err != nil || cfg.Get("uri") != "mongodb://user:s3cret@host/" || cfg.Cluster() != "shop" {
		t.Fatalf("resolved %+v, %v", cfg, err)
	}
	if s := shop.Options["uri"][0].String(); strings.Contains(s, "s3cret") {
		t.Fatalf("reference prints the secret: %s", s)
	}
	file := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Value{File: file}.resolve()
	if err != nil || v != "from-file" {
		t.Fatalf("file reference: %q, %v", v, err)
	}
}

func TestSchedule(t *testing.T) {
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		pol       Policy
		next      time.Time
		rpo       time.Duration
		parseDays string
	}{
		{Policy{Interval: Duration(time.Hour)}, at.Add(time.Hour), time.Hour, ""},
		{Policy{Cron: "30 2 * * *"}, time.Date(2026, 11, 25, 2, 30, 0, 0, time.UTC), 24 * time.Hour, ""},
	}
	for _, tc := range cases {
		if got := tc.pol.Next(at); !got.Equal(tc.next) {
			t.Errorf("%+v: next %s, want %s", tc.pol, got, tc.next)
		}
		if got := tc.pol.RPO(at); got != tc.rpo {
			t.Errorf("%+v: rpo %s, want %s", tc.pol, got, tc.rpo)
		}
		if !tc.pol.Next(time.Time{}).IsZero() {
			t.Errorf("%+v: a policy that never ran must be due now", tc.pol)
		}
	}
	if d, err := ParseDuration("7d"); err != nil || d != 7*24*time.Hour {
		t.Errorf("7d = %s, %v", d, err)
	}
}

func TestLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:1": true, "[::1]:1": true, "localhost:1": true, "0.0.0.0:1": false, ":1": false, "10.0.0.1:1": false} {
		if IsLoopback(addr) != want {
			t.Errorf("IsLoopback(%s) != %v", addr, want)
		}
	}
}

// TestReadmeShowsExample keeps the README's daemon section in step with
// `strata daemon example-config`.
func TestReadmeShowsExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(Example, "` + \"`strata backup KIND --help`\" + `", "`strata backup KIND --help`")
	if !strings.Contains(string(readme), want) {
		t.Fatal("README.md does not show config.Example verbatim; paste `strata daemon example-config` into its daemon section")
	}
}
