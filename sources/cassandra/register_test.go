package cassandra

import (
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

func TestConnConfigTLSSwitches(t *testing.T) {
	for _, tc := range []struct {
		name, tls, skip string
		wantTLS, insec  bool
		err             string // "" for none
	}{
		{name: "unset"},
		{name: "on", tls: "true", wantTLS: true},
		{name: "on as 1", tls: "1", wantTLS: true},
		{name: "off", tls: "false"},
		{name: "skip verify", tls: "true", skip: "true", wantTLS: true, insec: true},
		{name: "tls yes", tls: "yes", err: `tls="yes"`},
		{name: "tls on", tls: "on", err: `tls="on"`},
		{name: "tls 1x", tls: "1x", err: `tls="1x"`},
		{name: "skip-verify yes", tls: "true", skip: "yes", err: `tls-skip-verify="yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := sources.NewConfig()
			cfg.Set("hosts", "127.0.0.1")
			if tc.tls != "" {
				cfg.Set("tls", tc.tls)
			}
			if tc.skip != "" {
				cfg.Set("tls-skip-verify", tc.skip)
			}
			c, err := connConfig(cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("connConfig: %v; want an error naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (c.TLS != nil) != tc.wantTLS || (c.TLS != nil && c.TLS.InsecureSkipVerify != tc.insec) {
				t.Errorf("connConfig: TLS %+v; want TLS %v, skip verify %v", c.TLS, tc.wantTLS, tc.insec)
			}
		})
	}
}

// TestPasswordFileIsAPath checks that password-file is a plain path
// option (a Secret one is resolved by the daemon config to the file's
// content, which then was opened as a path and echoed in errors), in the
// backup and the load options alike, and that a missing file is named.
func TestPasswordFileIsAPath(t *testing.T) {
	for name, opts := range map[string][]sources.Option{"backup": options(), "load": loadFlags()} {
		found := false
		for _, o := range opts {
			if o.Name == "password-file" {
				found = true
				if o.Secret {
					t.Errorf("%s option password-file is Secret: the daemon would resolve it to the password and open that as a path", name)
				}
			}
		}
		if !found {
			t.Errorf("%s options lack password-file", name)
		}
	}
	cfg := sources.NewConfig()
	cfg.Set("hosts", "127.0.0.1")
	cfg.Set("password-file", "/nonexistent/cass-pw")
	if _, err := connConfig(cfg); err == nil || !strings.Contains(err.Error(), "password-file") || !strings.Contains(err.Error(), "/nonexistent/cass-pw") {
		t.Fatalf("connConfig with a missing password file: %v; want an error naming the option and the path", err)
	}
}
