package main

import (
	"strings"
	"testing"
)

// TestServerRefusesLocalCommands: with --server (or STRATA_SERVER) every
// command the daemon's API cannot run refuses with exit 2, naming it,
// subcommands included; none runs locally against --store.
func TestServerRefusesLocalCommands(t *testing.T) {
	store := t.TempDir() + "/no-store"
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"index", "rebuild"}, `"index rebuild"`},
		{[]string{"prune"}, `"prune"`},
		{[]string{"forget", "--keep-last", "1"}, `"forget"`},
		{[]string{"init"}, `"init"`},
		{[]string{"diff", "c/d/t", "1..2"}, `"diff"`},
		{[]string{"mount", t.TempDir()}, `"mount"`},
	} {
		args := append([]string{"--server", "http://127.0.0.1:1", "--store", store}, tc.args...)
		err := runCLI(t, args...)
		if codeOf(err) != exitUsage || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "--server") {
			t.Errorf("strata %s: %v (exit %d), want exit 2 naming %s and --server", strings.Join(args, " "), err, codeOf(err), tc.says)
		}
	}
	env := map[string]string{"STRATA_SERVER": "http://127.0.0.1:1", "STRATA_STORE": store}
	if err := runCLIEnv(t, env, "index", "rebuild"); codeOf(err) != exitUsage || !strings.Contains(err.Error(), "index rebuild") {
		t.Errorf("STRATA_SERVER set, strata index rebuild: %v (exit %d), want exit 2", err, codeOf(err))
	}
}
