package cassandra

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Kind is the source's type name in configs.
const Kind = "cassandra"

func init() {
	sources.Register(sources.Kind{
		Name:      Kind,
		Usage:     "back up Cassandra tables as CQL that cqlsh replays: one copy whatever the replication factor",
		UsageText: "strata backup cassandra --cluster NAME --hosts H1,H2 [--username U] [--only KEYSPACE[/TABLE]]",
		Description: `One version per table: schema.cql (keyspace, user types, table, indexes,
views) and data-NNNN.cql, the rows as INSERT JSON statements that keep each
cell's write time and TTL, in token order, split by token range. Each range
is read once, from one replica, so an RF=3 table is stored once; a replica
that fails is replaced by another. The scan's start is the version's point
in time: cells written later are left out and counted. Unchanged rows are
stored as references to the previous version. The password is read from
the file given by --password-file or from ` + PasswordEnv + `, never
from the command line. Without --only every keyspace but the system ones
is backed up; naming one (--only system_auth/roles) backs it up.`,
		Options:    options(),
		New:        newFromConfig,
		Differ:     Differ{},
		Loader:     loader{},
		LoadTakes:  sources.LoadCommon{Database: true, Table: true, Drop: true},
		LoadTarget: "H1,H2",
		LoadFlags:  loadFlags(),
	})
}

func options() []sources.Option {
	return []sources.Option{
		{Name: "hosts", Required: true, Repeated: true, EnvVars: []string{"STRATA_CASSANDRA_HOSTS"}, Usage: "contact points `HOST[:PORT]`, comma-separated or repeated"},
		{Name: "username", EnvVars: []string{"STRATA_CASSANDRA_USERNAME"}, Usage: "user for PasswordAuthenticator"},
		passwordFileOption(),
		{Name: "consistency", Usage: "consistency of the range reads: LOCAL_QUORUM (default), LOCAL_ONE, ONE, QUORUM, ALL"},
		{Name: "local-dc", Usage: "read from this datacenter's replicas first"},
		{Name: "parallelism", Usage: "range requests at once per node (default 2)"},
		{Name: "page-size", Usage: "rows per page (default 2000)"},
		{Name: "timeout", Usage: "per-request timeout (default 30s)"},
		{Name: "part-size", Usage: "target size of a data part, e.g. 64MiB (the default); a table's later versions keep its first version's parts"},
		{Name: "tls", Usage: "true: connect with TLS"},
		{Name: "tls-ca", Usage: "PEM file of the CA that signed the nodes' certificates (implies --tls true)"},
		{Name: "tls-cert", Usage: "PEM client certificate (with --tls-key)"},
		{Name: "tls-key", Usage: "PEM client key"},
		{Name: "tls-server-name", Usage: "name to verify in the nodes' certificates"},
		{Name: "tls-skip-verify", Usage: "true: do not verify the nodes' certificates"},
	}
}

// newFromConfig builds a source from generic settings.
func newFromConfig(cfg sources.Config) (sources.Source, error) {
	c, err := connConfig(cfg)
	if err != nil {
		return nil, err
	}
	c.Cluster = cfg.Cluster()
	c.Keyspaces, c.Tables = Scope(cfg.All(sources.OptOnly))
	return New(c)
}

// connConfig reads the settings shared by backups and loads.
func connConfig(cfg sources.Config) (Config, error) {
	c := Config{Hosts: splitHosts(cfg.All("hosts")), Username: cfg.Get("username"), LocalDC: cfg.Get("local-dc")}
	var err error
	if c.Password, err = readPassword(cfg.Get("password-file")); err != nil {
		return c, err
	}
	if c.Consistency, err = parseConsistency(cfg.Get("consistency")); err != nil {
		return c, err
	}
	if c.Parallelism, err = cfg.Count("parallelism", 1<<16); err != nil {
		return c, err
	}
	if c.PageSize, err = cfg.Count("page-size", 1<<30); err != nil {
		return c, err
	}
	if v := cfg.Get("timeout"); v != "" {
		if c.Timeout, err = time.ParseDuration(v); err != nil || c.Timeout <= 0 {
			return c, fmt.Errorf("bad timeout %q: want a duration such as 30s", v)
		}
	}
	if c.PartBytes, err = sizeSetting("part-size", cfg.Get("part-size")); err != nil {
		return c, err
	}
	tlsOpts := TLSOptions{CAFile: cfg.Get("tls-ca"), CertFile: cfg.Get("tls-cert"), KeyFile: cfg.Get("tls-key"), ServerName: cfg.Get("tls-server-name")}
	if tlsOpts.Enable, err = cfg.Bool("tls"); err != nil {
		return c, err
	}
	if tlsOpts.SkipVerify, err = cfg.Bool("tls-skip-verify"); err != nil {
		return c, err
	}
	c.TLS, err = tlsOpts.Config()
	return c, err
}

// sizeSetting reads the size setting name, such as 64MiB, 512KiB, 1GiB
// or bytes.
func sizeSetting(name, v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	num, mult := v, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if s, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = s, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad %s %q: want a size such as 64MiB", name, v)
	}
	return n * mult, nil
}

// Scope turns KEYSPACE[/TABLE] patterns into the discovery scope: when
// every pattern names its keyspace literally, only those keyspaces are
// listed; tables named literally are found even in system keyspaces.
// The caller's filter then keeps exactly what the patterns match.
func Scope(patterns []string) (keyspaces, tables []string) {
	all := len(patterns) > 0
	for _, p := range patterns {
		ksPat, tPat, hasTable := strings.Cut(p, "/")
		ks, ok := literal(ksPat)
		if !ok {
			all = false
			continue
		}
		if !slices.Contains(keyspaces, ks) {
			keyspaces = append(keyspaces, ks)
		}
		if t, ok := literal(tPat); hasTable && ok {
			tables = append(tables, ks+"."+t)
		}
	}
	if !all {
		keyspaces = nil
	}
	return keyspaces, tables
}

func literal(pattern string) (string, bool) {
	if pattern == "" || strings.ContainsAny(pattern, `*?[\`) {
		return "", false
	}
	return sources.UnescapeName(pattern)
}

func loadFlags() []sources.Option {
	return []sources.Option{
		{Name: "replication", Usage: "replication of a keyspace the load creates, a CQL map such as \"{'class':'SimpleStrategy','replication_factor':1}\" (default: the backed-up keyspace's)"},
		{Name: "username", EnvVars: []string{"STRATA_CASSANDRA_USERNAME"}, Usage: "user for PasswordAuthenticator"},
		passwordFileOption(),
		{Name: "tls", Usage: "true: connect with TLS"},
		{Name: "tls-ca", Usage: "PEM file of the CA that signed the nodes' certificates"},
		{Name: "parallelism", Usage: "batches in flight at once (default 32)"},
		{Name: "sstable-jars", EnvVars: []string{"STRATA_CASSANDRA_JARS"}, Usage: "load through SSTables: the lib/ `DIR` of a Cassandra of the target's version; rows are written as SSTables by its CQLSSTableWriter (a JDK 11+ needed, scratch space in $TMPDIR: see --sstable-segment) and streamed to the nodes as sstableloader does (storage port 7000), far less work for the target than CQL writes"},
		{Name: "sstable-segment", Usage: "with --sstable-jars, the input `SIZE` after which the SSTables written so far are streamed (and removed) while the next ones are written, e.g. 1GiB (the default); scratch space stays near two segments, and a table of at most two segments is written whole, then streamed"},
	}
}

// passwordFileOption is --password-file. It names a file, so it is not
// Secret: a Secret option is given in a daemon config only as {env: VAR}
// or {file: PATH}, and {file: PATH} resolves to the file's content, so
// the password itself would be opened as a path and echoed in the
// error. Like the relational sources' dsn-file, the path is plain; the
// password stays in the file (or in $STRATA_CASSANDRA_PASSWORD).
func passwordFileOption() sources.Option {
	return sources.Option{Name: "password-file", EnvVars: []string{"STRATA_CASSANDRA_PASSWORD_FILE"}, Usage: "`FILE` holding the password (else $" + PasswordEnv + ")"}
}
