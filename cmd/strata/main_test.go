package main

import (
	"context"
	"io"
	"testing"

	"github.com/urfave/cli/v2"
)

// runCLI runs strata with args (without the program name) as main does,
// but returns the error instead of exiting, with output discarded and no
// STRATA_* settings from the environment.
func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	return runCLIEnv(t, nil, args...)
}

// runCLIEnv is runCLI with the STRATA_* variables env sets.
func runCLIEnv(t *testing.T, env map[string]string, args ...string) error {
	t.Helper()
	for _, name := range []string{"STRATA_STORE", "STRATA_SERVER", "STRATA_SERVER_TOKEN_FILE", "STRATA_CACHE", "STRATA_CONFIG"} {
		t.Setenv(name, env[name])
	}
	app := withServer(newApp())
	app.ExitErrHandler = func(*cli.Context, error) {}
	app.Writer, app.ErrWriter = io.Discard, io.Discard
	return app.RunContext(context.Background(), append([]string{"strata"}, args...))
}

// codeOf is the exit status main gives err: 0 for none.
func codeOf(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}
