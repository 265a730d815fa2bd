package main

import (
	"strings"
	"testing"
)

// TestDaemonRefusesStrayArguments: an argument to `strata daemon` is a
// mistyped subcommand, refused with exit 2 and the list of subcommands,
// never a reason to start the daemon with --config; the subcommands that
// take no arguments refuse them too.
func TestDaemonRefusesStrayArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says []string
	}{
		{[]string{"daemon", "--config", "d.yaml", "check-conf", "d.yaml"}, []string{`"check-conf"`, "run, check-config, example-config"}},
		{[]string{"daemon", "check-conf", "d.yaml"}, []string{`"check-conf"`, "check-config"}},
		{[]string{"daemon", "run", "--config", "d.yaml", "extra"}, []string{"daemon run", `"extra"`}},
		{[]string{"daemon", "example-config", "extra"}, []string{"example-config", `"extra"`}},
		{[]string{"daemon", "check-config", "a.yaml", "b.yaml"}, []string{"check-config", `"b.yaml"`}},
	} {
		err := runCLI(t, tc.args...)
		if err == nil || codeOf(err) != exitUsage {
			t.Errorf("strata %s: %v (exit %d), want exit 2", strings.Join(tc.args, " "), err, codeOf(err))
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("strata %s: %q does not say %s", strings.Join(tc.args, " "), err, s)
			}
		}
	}
}
