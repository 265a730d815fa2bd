package main

import (
	"log/slog"
	"strings"
	"testing"
)

func TestParseLogLevel(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want slog.Level
		ok   bool
	}{
		{"debug", slog.LevelDebug, true}, {"INFO", slog.LevelInfo, true}, {"warn", slog.LevelWarn, true},
		{"warning", slog.LevelWarn, true}, {"error", slog.LevelError, true}, {"", 0, false}, {"trace", 0, false},
	} {
		got, err := parseLogLevel(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseLogLevel(%q) = %v, %v; want %v (ok %v)", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// TestDurationAndCountFlags: forget --keep-within and mount --refresh take
// the daemon config's durations (days too); a bad duration or a negative
// count is refused with exit 2 naming the flag, the value and the format.
func TestDurationAndCountFlags(t *testing.T) {
	store := t.TempDir() + "/no-store"
	for _, tc := range []struct {
		args []string
		code int
		says []string
	}{
		{[]string{"forget", "--keep-within", "1d"}, exitNoStore, nil},
		{[]string{"forget", "--keep-within", "36h", "--keep-last", "0", "--keep-daily", "7"}, exitNoStore, nil},
		{[]string{"forget", "--keep-within", "1x"}, exitUsage, []string{"--keep-within", `"1x"`, "7d"}},
		{[]string{"forget", "--keep-within", "-2h"}, exitUsage, []string{"--keep-within", `"-2h"`, "7d"}},
		{[]string{"forget", "--keep-last", "-1"}, exitUsage, []string{"--keep-last", "-1"}},
		{[]string{"forget", "--keep-weekly", "-3", "--keep-last", "2"}, exitUsage, []string{"--keep-weekly", "-3"}},
		{[]string{"mount", "--refresh", "5", t.TempDir()}, exitUsage, []string{"--refresh", `"5"`, "7d"}},
		{[]string{"mount", "--refresh", "0s", t.TempDir()}, exitUsage, []string{"--refresh", `"0s"`}},
	} {
		args := append(tc.args[:1:1], append([]string{"--store", store}, tc.args[1:]...)...)
		err := runCLI(t, args...)
		if codeOf(err) != tc.code {
			t.Errorf("strata %s: %v (exit %d), want exit %d", strings.Join(args, " "), err, codeOf(err), tc.code)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("strata %s: %q does not say %s", strings.Join(args, " "), err, s)
			}
		}
	}
}
