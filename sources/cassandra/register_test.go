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
