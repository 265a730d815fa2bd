package main

import (
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// TestHelpNamesArgumentsKey checks that `strata backup KIND --help` of
// every kind whose arguments have no flag (posix's TABLE=DIR, hdfs's DIR)
// names the config key a daemon job gives them under.
func TestHelpNamesArgumentsKey(t *testing.T) {
	positional := 0
	for _, k := range sources.Kinds() {
		for _, o := range k.Options {
			if o.Positional {
				positional++
			}
			if o.Positional && !strings.Contains(k.Description, "the option "+o.Name) {
				t.Errorf("%s: the help does not name %q, the config key of the arguments:\n%s", k.Name, o.Name, k.Description)
			}
		}
	}
	if positional < 2 {
		t.Fatalf("%d kinds with arguments registered, want posix and hdfs at least", positional)
	}
}
