package main

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestRestoreRefusesUnusedFlags gives each way of restoring (into a
// directory, through --server, into each kind of database) a flag it
// does not use: each must be refused with exit 2, naming the flag, before
// anything is touched, never silently ignored.
func TestRestoreRefusesUnusedFlags(t *testing.T) {
	store := t.TempDir() + "/no-store"
	server := []string{"--server", "http://127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{append(server, "restore", "--dry-run", "c/d/t/latest", "out"), "--dry-run"},
		{append(server, "restore", "--overwrite", "c/d/t/latest", "out"), "--overwrite"},
		{append(server, "restore", "--verify=false", "c/d/t/latest", "out"), "--verify"},
		{append(server, "restore", "--to-mongodb", "mongodb://h/", "c/d/t/latest"), "--to-mongodb"},
		{append(server, "restore", "--db", "x", "c/d/t/latest", "out"), "--db"},
		{[]string{"restore", "--store", store, "--dry-run", "--to-mongodb", "mongodb://h/", "c/d/t/latest"}, "--dry-run"},
		{[]string{"restore", "--store", store, "--overwrite", "--to-postgres", "postgres://h/", "c/d/t/latest"}, "--overwrite"},
		{[]string{"restore", "--store", store, "--verify=false", "--to-cassandra", "h1", "c/d/t/latest"}, "--verify"},
		{[]string{"restore", "--store", store, "--path", "a/b", "--to-mongodb", "mongodb://h/", "c/d/t/latest"}, "--path"},
		{[]string{"restore", "--store", store, "--drop", "--to-hdfs", "hdfs://h:8020/r", "c/d/t/latest"}, "--drop"},
		{[]string{"restore", "--store", store, "--db", "x", "--to-hdfs", "hdfs://h:8020/r", "c/d/t/latest"}, "--db"},
		{[]string{"restore", "--store", store, "--replication", "{}", "--to-mongodb", "mongodb://h/", "c/d/t/latest"}, "--replication"},
		{[]string{"restore", "--store", store, "--schema", "s", "--to-cassandra", "h1", "c/d/t/latest"}, "--schema"},
		{[]string{"restore", "--store", store, "--to-mongodb", "mongodb://h/", "--to-hdfs", "hdfs://h:8020/r", "c/d/t/latest"}, "--to-"},
		{[]string{"restore", "--store", store, "--drop", "c/d/t/latest", "out"}, "--drop"},
		{[]string{"restore", "--store", store, "--collection", "x", "c/d/t/latest", "out"}, "--collection"},
		{[]string{"restore", "--store", store, "--hdfs-user", "u", "c/d/t/latest", "out"}, "--hdfs-user"},
	} {
		err := runCLI(t, tc.args...)
		if err == nil || codeOf(err) != exitUsage || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("strata %s: %v (exit %d); want exit 2 naming %s", strings.Join(tc.args, " "), err, codeOf(err), tc.says)
		}
	}
}

// TestRestoreTakesItsFlags: the flags each way of restoring uses, and a
// loader flag set only by its environment variable (HADOOP_USER_NAME, for
// a restore into a directory), are not refused: each run gets past the
// flag check to the missing store (exit 4) or the unreachable server.
func TestRestoreTakesItsFlags(t *testing.T) {
	t.Setenv("HADOOP_USER_NAME", "hdfs")
	store := t.TempDir() + "/no-store"
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"restore", "--store", store, "--path", "a", "--dry-run", "--overwrite", "--verify=false", "c/d/t/latest", "out"}, exitNoStore},
		{[]string{"restore", "--store", store, "--to-hdfs", "hdfs://h:8020/r", "--path", "a", "--hdfs-user", "u", "c/d/t/latest"}, exitNoStore},
		{[]string{"restore", "--store", store, "--to-mongodb", "mongodb://h/", "--db", "x", "--collection", "y", "--drop", "c/d/t/latest"}, exitNoStore},
		{[]string{"--server", "http://127.0.0.1:1", "restore", "--path", "a", "--verify", "c/d/t/latest", "out"}, exitError},
	} {
		if err := runCLI(t, tc.args...); codeOf(err) != tc.code {
			t.Errorf("strata %s: %v (exit %d), want exit %d", strings.Join(tc.args, " "), err, codeOf(err), tc.code)
		}
	}
}

// TestLoadTargetLabels: restore --help labels each --to-<kind> with what
// it takes: a host list for Cassandra, not a URI.
func TestLoadTargetLabels(t *testing.T) {
	want := map[string]string{"to-cassandra": "H1,H2", "to-mongodb": "URI", "to-postgres": "DSN", "to-hdfs": "hdfs://HOST:PORT/PATH"}
	flags, _ := restoreFlags()
	for _, f := range flags {
		label, ok := want[f.Names()[0]]
		if !ok {
			continue
		}
		delete(want, f.Names()[0])
		if help := cli.FlagStringer(f); !strings.HasPrefix(help, "--"+f.Names()[0]+" "+label+"\t") {
			t.Errorf("restore --help shows %q, want the label %s", help, label)
		}
	}
	if len(want) > 0 {
		t.Errorf("no flags %v", want)
	}
}
