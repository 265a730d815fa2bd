package posix

import (
	"fmt"
	"strings"

	"github.com/stratabackup/strata/sources"
)

func init() {
	sources.Register(sources.Kind{
		Name:      Kind,
		Usage:     "back up directories",
		UsageText: "strata backup posix --cluster NAME --db NAME TABLE=DIR [TABLE=DIR...]",
		Options: []sources.Option{
			{Name: "db", Required: true, Usage: "database name (second level)"},
			{Name: "root", Positional: true, Repeated: true, Usage: "a directory to back up as TABLE=DIR (e.g. home=/home)"},
			{Name: "readers", Usage: "files read at once (default 2 per CPU on a first backup, 4 on later ones, whose reads mostly wait on the disk; more can help on network filesystems or many disks)"},
		},
		New: newFromConfig,
	})
}

// newFromConfig builds a source from generic settings: "db" and one
// "root" TABLE=DIR per directory.
func newFromConfig(cfg sources.Config) (sources.Source, error) {
	roots := map[string]string{}
	for _, a := range cfg.All("root") {
		table, dir, ok := strings.Cut(a, "=")
		if !ok || table == "" || dir == "" {
			return nil, fmt.Errorf("argument %q: want TABLE=DIR, e.g. home=/home", a)
		}
		roots[table] = dir
	}
	readers, err := cfg.Count("readers", 1024)
	if err != nil {
		return nil, fmt.Errorf("posix source: %w", err)
	}
	return New(Config{Cluster: cfg.Cluster(), Database: cfg.Get("db"), Roots: roots, Workers: readers})
}
