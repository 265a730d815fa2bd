package posix

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/stratabackup/strata/sources"
)

func init() {
	sources.Register(sources.Kind{
		Name:      Kind,
		Usage:     "back up directories",
		UsageText: "strata backup posix --cluster NAME --db NAME TABLE=DIR [TABLE=DIR...]",
		// The arguments have no flag, so the help names the config key
		// that a daemon job gives them under.
		Description: `One version per TABLE=DIR argument: the tree under DIR, named
<cluster>/<db>/TABLE ('/' allowed in TABLE). In a daemon config the
arguments are the option root, a list: root: [home=/home, etc=/etc].`,
		Options: []sources.Option{
			{Name: "db", Required: true, Usage: "database name (second level)"},
			{Name: "root", Positional: true, Repeated: true, Usage: "a directory to back up as TABLE=DIR (e.g. home=/home)"},
			{Name: "readers", Usage: "files read and hashed at once (default on a first backup 1 per CPU where small files are read in batches through io_uring, else 2; 4 per CPU on later ones, whose reads mostly wait on the disk; more can help on network filesystems or many disks)"},
		},
		New: newFromConfig,
	})
}

// newFromConfig builds a source from generic settings: "db" and one
// "root" TABLE=DIR per directory.
func newFromConfig(cfg sources.Config) (sources.Source, error) {
	roots, err := parseRoots(cfg.All("root"))
	if err != nil {
		return nil, err
	}
	readers, err := cfg.Count("readers", 1024)
	if err != nil {
		return nil, fmt.Errorf("posix source: %w", err)
	}
	return New(Config{Cluster: cfg.Cluster(), Database: cfg.Get("db"), Roots: roots, Workers: readers})
}

// parseRoots reads TABLE=DIR arguments into Config.Roots. A table given
// twice with two directories is refused: a map keeps only one of them, so
// the other would silently go without backup while the run succeeds. The
// same directory given twice (after cleaning) is harmless and kept once,
// as hdfs does.
func parseRoots(args []string) (map[string]string, error) {
	roots := map[string]string{}
	for _, a := range args {
		table, dir, ok := strings.Cut(a, "=")
		if !ok || table == "" || dir == "" {
			return nil, fmt.Errorf("argument %q: want TABLE=DIR, e.g. home=/home", a)
		}
		if other, dup := roots[table]; dup && filepath.Clean(other) != filepath.Clean(dir) {
			return nil, fmt.Errorf("table %q given twice, for %s and for %s: give each directory its own TABLE", table, other, dir)
		}
		roots[table] = dir
	}
	return roots, nil
}
