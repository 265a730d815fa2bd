package relational

import (
	"strings"
	"testing"

	"github.com/stratabackup/strata/sources"
)

func TestWorkersSetting(t *testing.T) {
	for _, tc := range []struct {
		kind, workers string
		want          int
		err           string // "" for none
	}{
		{KindPostgres, "", 2, ""},
		{KindPostgres, "8", 8, ""},
		{KindMySQL, "4", 4, ""},
		{KindSQLServer, "", 2, ""}, // the default, which msSnap ignores
		{KindSQLServer, "1", 1, ""},
		{KindSQLServer, "2", 0, `workers=2: want 1 or none; SQL Server reads every table on the one connection`},
		{KindPostgres, "0", 0, `workers="0"`},
	} {
		t.Run(tc.kind+"/"+tc.workers, func(t *testing.T) {
			k, err := sources.LookupKind(tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			cfg := sources.NewConfig()
			cfg.Set(sources.OptCluster, "c")
			cfg.Set(optDSN, "dsn")
			if tc.workers != "" {
				cfg.Set(optWorkers, tc.workers)
			}
			s, err := k.New(cfg)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), tc.kind) {
					t.Fatalf("New: %v; want an error naming %s and containing %q", err, tc.kind, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.(*Source).cfg.Workers; got != tc.want {
				t.Errorf("workers %q: %d, want %d", tc.workers, got, tc.want)
			}
		})
	}
}

// TestHelpPromisesOnlyWhatRuns checks that SQL Server's help does not
// claim parallel reads or a default of 2 workers, which its one
// connection does not give, while the others' help still says so.
func TestHelpPromisesOnlyWhatRuns(t *testing.T) {
	for _, tc := range []struct {
		kind     string
		parallel bool
	}{
		{KindPostgres, true},
		{KindMySQL, true},
		{KindSQLServer, false},
	} {
		k, err := sources.LookupKind(tc.kind)
		if err != nil {
			t.Fatal(err)
		}
		help := k.Description
		for _, o := range k.Options {
			help += "\n" + o.Name + ": " + o.Usage
		}
		for _, claim := range []string{"parallel", "default 2"} {
			if strings.Contains(help, claim) != tc.parallel {
				t.Errorf("%s help: says %q = %v, want %v:\n%s", tc.kind, claim, strings.Contains(help, claim), tc.parallel, help)
			}
		}
	}
}
