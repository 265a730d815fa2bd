package hdfs

import (
	"fmt"
	"os"
	"os/user"
	"path"
	"strings"

	"github.com/colinmarc/hdfs/v2/hadoopconf"

	"github.com/stratabackup/strata/sources"
)

// Kind is the source's type name in configs.
const Kind = "hdfs"

// Config says which cluster and directories to back up.
type Config struct {
	// Cluster and Database name the versions (Cluster/Database/Table).
	Cluster, Database string
	// Namenodes are NameNode RPC addresses (host:port); empty means the
	// ones of the configuration under HADOOP_CONF_DIR (or HADOOP_HOME).
	Namenodes []string
	// User is the HDFS user the client acts as; default
	// $HADOOP_USER_NAME, else the local user.
	User string
	// Dirs are the directories to back up, each "TABLE=DIR" or "DIR": an
	// absolute HDFS path, which may hold glob patterns (* ? [...]) in the
	// second form; a DIR's table is its path without the leading '/'.
	Dirs []string
	// Workers is how many files are read at once; default
	// 4*GOMAXPROCS, since reading waits mostly on DataNodes.
	Workers int
	// NoXAttrs skips listing extended attributes, which costs one
	// NameNode call per file.
	NoXAttrs bool
}

// dirSpec is one configured directory: a literal table name and path, or
// a glob whose matches are named by their path.
type dirSpec struct {
	table string // "" for a glob or a DIR form
	dir   string
}

// withDefaults checks c and fills its defaults.
func (c Config) withDefaults() (Config, []dirSpec, error) {
	if c.Cluster == "" || c.Database == "" {
		return c, nil, fmt.Errorf("hdfs: cluster and database names are required")
	}
	if len(c.Dirs) == 0 {
		return c, nil, fmt.Errorf("hdfs %s/%s: no directories configured", c.Cluster, c.Database)
	}
	specs := make([]dirSpec, 0, len(c.Dirs))
	for _, d := range c.Dirs {
		s, err := parseDir(d)
		if err != nil {
			return c, nil, fmt.Errorf("hdfs %s/%s: directory %q: %w", c.Cluster, c.Database, d, err)
		}
		specs = append(specs, s)
	}
	if err := checkTables(specs); err != nil {
		return c, nil, fmt.Errorf("hdfs %s/%s: %w", c.Cluster, c.Database, err)
	}
	if len(c.Namenodes) == 0 {
		conf, err := hadoopconf.LoadFromEnvironment()
		if err != nil {
			return c, nil, fmt.Errorf("hdfs %s: read HADOOP_CONF_DIR: %w", c.Cluster, err)
		}
		c.Namenodes = conf.Namenodes()
		if len(c.Namenodes) == 0 {
			return c, nil, fmt.Errorf("hdfs %s: no namenode given and none in HADOOP_CONF_DIR (%q); set --namenode HOST:PORT", c.Cluster, os.Getenv("HADOOP_CONF_DIR"))
		}
	}
	if c.User == "" {
		c.User = os.Getenv("HADOOP_USER_NAME")
	}
	if c.User == "" {
		u, err := user.Current()
		if err != nil {
			return c, nil, fmt.Errorf("hdfs %s: no user given and the local one is unknown: %w", c.Cluster, err)
		}
		c.User = u.Username
	}
	if c.Workers <= 0 {
		c.Workers = 4 * sources.CPUs()
	}
	return c, specs, nil
}

// parseDir reads "TABLE=DIR" or "DIR". A glob has no TABLE: its matches
// are named by their paths.
func parseDir(s string) (dirSpec, error) {
	var d dirSpec
	if t, dir, ok := strings.Cut(s, "="); ok && !strings.HasPrefix(s, "/") {
		if err := checkTable(t); err != nil {
			return d, fmt.Errorf("table %q: %w", t, err)
		}
		if hasGlob(dir) {
			return d, fmt.Errorf("a TABLE=DIR directory cannot be a glob; give the pattern alone and its matches are named by their paths")
		}
		d.table, s = t, dir
	}
	if !strings.HasPrefix(s, "/") {
		return d, fmt.Errorf("want an absolute HDFS path, e.g. /data/logs or logs=/data/logs")
	}
	d.dir = path.Clean(s)
	if d.dir == "/" && d.table == "" {
		return d, fmt.Errorf("the root directory needs a table name: root=/")
	}
	return d, nil
}

// checkTables refuses a table that two configured directories name, as
// TABLE=DIR or by their paths. Discover refuses it too, but only once
// connected and for globs' matches as well; checking the literal names
// here lets a config check (which does not connect) catch the mistake.
func checkTables(specs []dirSpec) error {
	seen := map[string]string{}
	for _, sp := range specs {
		table := sp.table
		if table == "" {
			if hasGlob(sp.dir) {
				continue
			}
			table = tableOf(sp.dir)
		}
		if other, dup := seen[table]; dup && other != sp.dir {
			return fmt.Errorf("table %q names both %s and %s; name one of them TABLE=DIR", table, other, sp.dir)
		}
		seen[table] = sp.dir
	}
	return nil
}

// hasGlob reports whether p holds glob metacharacters.
func hasGlob(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// checkTable accepts relative '/'-separated names without empty, "." or
// ".." components, so that each component is one directory in the mount.
func checkTable(table string) error {
	if table == "" {
		return fmt.Errorf("empty table name")
	}
	for _, c := range strings.Split(table, "/") {
		if c == "" || c == "." || c == ".." {
			return fmt.Errorf("table name must be a relative path without empty, '.' or '..' components")
		}
	}
	return nil
}

// tableOf names a directory given without a table: its path without the
// leading '/'.
func tableOf(dir string) string { return strings.TrimPrefix(dir, "/") }

// objectOf is the object of table at dir.
func (c Config) objectOf(table, dir string) sources.Object {
	return sources.Object{Cluster: c.Cluster, Database: c.Database, Table: table, Meta: map[string]string{"path": dir}}
}
