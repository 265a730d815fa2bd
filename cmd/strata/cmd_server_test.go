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

// TestServerBackupIgnoresEnvSettings: backup --server refuses a source
// setting given on the command line (the daemon uses its configured
// cluster's), but not one that only comes from its environment variable,
// which is set for every command.
func TestServerBackupIgnoresEnvSettings(t *testing.T) {
	t.Setenv("STRATA_MONGODB_URI", "mongodb://u:pw@127.0.0.1:1/")
	env := map[string]string{"STRATA_SERVER": "http://127.0.0.1:1"}
	err := runCLIEnv(t, env, "backup", "mongodb", "--cluster", "c")
	if err == nil || codeOf(err) == exitUsage {
		t.Errorf("STRATA_MONGODB_URI set, backup mongodb --server: %v (exit %d), want it sent to the server (which is down)", err, codeOf(err))
	}
	err = runCLIEnv(t, env, "backup", "mongodb", "--cluster", "c", "--uri", "mongodb://127.0.0.1:2/")
	if codeOf(err) != exitUsage || !strings.Contains(err.Error(), "--uri") {
		t.Errorf("backup mongodb --server --uri: %v (exit %d), want exit 2 naming --uri", err, codeOf(err))
	}
}
