package hdfs

import (
	"strings"

	"github.com/stratabackup/strata/sources"
)

func init() {
	sources.Register(sources.Kind{
		Name:      Kind,
		Usage:     "back up HDFS directories",
		UsageText: "strata backup hdfs --cluster NAME --db NAME [--namenode HOST:PORT] [--user NAME] DIR|TABLE=DIR [...]",
		Description: `One version per directory, read from an HDFS snapshot when the directory
or an ancestor is snapshottable (created and deleted by the run), live and
marked fuzzy otherwise. A DIR may be a glob (/data/*/logs); its matches
are named by their paths. Unchanged files are kept without being read,
appended files read only their new bytes. The NameNode comes from
--namenode or HADOOP_CONF_DIR; restore with --to-hdfs hdfs://HOST:PORT/PATH.
In a daemon config the DIR and TABLE=DIR arguments are the option dir,
a list: dir: [/data/*/logs, raw=/ingest/raw].`,
		Options: []sources.Option{
			{Name: "db", Required: true, Usage: "database name (second level)"},
			{Name: "namenode", Repeated: true, EnvVars: []string{"STRATA_HDFS_NAMENODE"}, Usage: "NameNode RPC address HOST:PORT (default: HADOOP_CONF_DIR's)"},
			{Name: "user", EnvVars: []string{"HADOOP_USER_NAME"}, Usage: "HDFS user to act as (default: the local user)"},
			{Name: "workers", Usage: "files read at once (default 4 per CPU)"},
			{Name: "no-xattrs", Usage: "set to true to skip extended attributes (one NameNode call per file)"},
			{Name: "dir", Positional: true, Repeated: true, Usage: "a directory to back up: /PATH (globs allowed) or TABLE=/PATH"},
		},
		New:        newFromConfig,
		Loader:     loader{},
		LoadTarget: "hdfs://HOST:PORT/PATH",
		// LoadTakes none of --db, --collection, --drop: a load writes a
		// directory tree under the target URL's path, never drops it.
		LoadFlags: []sources.Option{
			{Name: "path", Usage: "load only this file or directory of the version"},
			{Name: "hdfs-user", EnvVars: []string{"HADOOP_USER_NAME"}, Usage: "HDFS user to write as; owners are restored only as the superuser"},
		},
	})
}

// newFromConfig builds a source from generic settings.
func newFromConfig(cfg sources.Config) (sources.Source, error) {
	c := Config{
		Cluster:  cfg.Cluster(),
		Database: cfg.Get("db"),
		User:     cfg.Get("user"),
		Dirs:     cfg.All("dir"),
	}
	for _, nn := range cfg.All("namenode") {
		c.Namenodes = append(c.Namenodes, strings.Split(nn, ",")...)
	}
	n, err := cfg.Count("workers", 1024)
	if err != nil {
		return nil, errorf("hdfs source: %v", err)
	}
	c.Workers = n
	if c.NoXAttrs, err = cfg.Bool("no-xattrs"); err != nil {
		return nil, errorf("hdfs source: %v", err)
	}
	return New(c)
}
