package sources

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Kind describes one kind of source to whoever configures it: the CLI
// builds `strata backup <kind>` and its flags from it, the daemon reads
// the same options from its config file and the API from JSON. A kind's
// package registers it in an init function, so adding a kind touches only
// that package and the one line that imports it (daemon/engine/kinds.go).
type Kind struct {
	// Name is the kind's type name: "posix", "mongodb".
	Name string
	// Usage is a one-line summary; Description the longer help text.
	Usage, Description string
	// UsageText shows how the command line looks, e.g. "strata backup
	// posix --cluster NAME --db NAME TABLE=DIR [TABLE=DIR...]"; the
	// positional arguments go to the option marked Positional.
	UsageText string
	// Options are the settings New understands besides the common ones
	// (cluster and only, which every kind gets).
	Options []Option
	// New builds a source from a configuration. Errors name the bad
	// setting; New does not contact the server (that happens on first
	// use), so a config can be checked offline.
	New func(cfg Config) (Source, error)
	// Differ computes @diff contents for row sources; nil for file
	// sources, whose @diff compares files.
	Differ Differ
	// Loader loads a stored version into a live database (`strata
	// restore --to-<kind>`); nil when the kind has none.
	Loader Loader
	// LoadFlags are the Loader's own settings besides LoadOptions'
	// common ones (a target replication, a schema rename, a target
	// path). The CLI adds each as a restore flag (shared by kinds that
	// declare the same name) and hands the given ones over in
	// LoadOptions.Extra; the daemon's API takes them by the same names.
	LoadFlags []Option
	// LoadTakes says which of LoadOptions' common settings the Loader
	// uses. The CLI refuses the others with --to-<kind> instead of
	// ignoring them: a --drop an HDFS load never does, or a --table it
	// never renames to, would leave the user believing it had.
	LoadTakes LoadCommon
	// LoadTarget is how --to-<kind> names its target in help texts
	// ("URI", "DSN", "H1,H2"): a Cassandra load takes a host list, not
	// the URI a label would otherwise promise. "" means URI.
	LoadTarget string
}

// LoadCommon names the common settings of LoadOptions a Loader uses.
type LoadCommon struct {
	Database, Table, Drop bool
}

// Option is one setting of a kind.
type Option struct {
	Name  string // flag and config key: "uri"
	Usage string
	// Required settings must be given.
	Required bool
	// Repeated settings may be given several times.
	Repeated bool
	// Positional takes the command line's arguments (at most one option
	// of a kind has it). The CLI makes no flag of it, so no flag help
	// shows its name, which is the key a daemon config gives the
	// arguments under: the kind's Description says it.
	Positional bool
	// Secret settings (passwords, connection strings with credentials)
	// are never logged or recorded; config files give them only by
	// reference (an env var or a file).
	Secret bool
	// EnvVars are read when the setting is not given.
	EnvVars []string
}

// Common option names every kind accepts.
const (
	OptCluster = "cluster" // the cluster name, first level of the tree
	OptOnly    = "only"    // DB[/TABLE] patterns limiting discovery
)

// Config is a kind's settings by option name, as strings: the form that
// CLI flags, YAML and JSON all reduce to.
type Config struct {
	Values map[string][]string
}

// NewConfig returns an empty Config.
func NewConfig() Config { return Config{Values: map[string][]string{}} }

// Set replaces a setting's values.
func (c Config) Set(name string, vals ...string) { c.Values[name] = vals }

// Get returns a setting's last value, "" when unset.
func (c Config) Get(name string) string {
	v := c.Values[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// All returns every value of a setting.
func (c Config) All(name string) []string { return c.Values[name] }

// Cluster returns the cluster name.
func (c Config) Cluster() string { return c.Get(OptCluster) }

// Count reads a setting that counts something (workers, readers, rows
// per page): 0 when unset, else a whole number from 1 to max, or an error
// naming the setting and what it got.
func (c Config) Count(name string, max int) (int, error) {
	v := c.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("setting %s=%q: want a whole number from 1 to %d", name, v, max)
	}
	return n, nil
}

// Bool reads a setting that switches something on: false when unset,
// else what strconv.ParseBool accepts (true, false, 1, 0, t, f), or an
// error naming the setting and what it got. Anything else is refused
// rather than read as false: "yes" or "on" for a setting such as tls
// means on, and reading it as off would quietly drop what was asked.
func (c Config) Bool(name string) (bool, error) {
	v := c.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("setting %s=%q: want true or false", name, v)
	}
	return b, nil
}

// Loader loads a stored version (or the native files of a @diff) into a
// live database.
type Loader interface {
	Load(ctx context.Context, target string, v VersionReader, opts LoadOptions) (LoadResult, error)
}

// LoadOptions say where a Loader puts what it loads.
type LoadOptions struct {
	// Database and Table name the target; "" keeps the version's own.
	Database, Table string
	// Drop empties the target first instead of merging into it.
	Drop bool
	// Extra holds the values of the kind's LoadFlags that were given;
	// never nil when set by the engine.
	Extra Config
}

// LoadResult is what a load did.
type LoadResult struct {
	// Summary is one line for people: "1200 documents written, 3
	// deleted, 2 indexes".
	Summary string
	// Stats is the kind's own account, for --json and the API.
	Stats any
}

var (
	regMu sync.RWMutex
	kinds = map[string]Kind{}
)

// Register makes a kind available by name. It panics on a duplicate or
// incomplete registration: that is a programming error caught at start.
func Register(k Kind) {
	regMu.Lock()
	defer regMu.Unlock()
	if k.Name == "" || k.New == nil {
		panic("sources.Register: a kind needs a Name and New")
	}
	if _, dup := kinds[k.Name]; dup {
		panic("sources.Register: kind " + k.Name + " registered twice")
	}
	kinds[k.Name] = k
}

// LookupKind returns the registered kind name.
func LookupKind(name string) (Kind, error) {
	regMu.RLock()
	defer regMu.RUnlock()
	k, ok := kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("unknown source kind %q (known: %s)", name, strings.Join(kindNames(), ", "))
	}
	return k, nil
}

// Kinds lists the registered kinds by name.
func Kinds() []Kind {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Kind, 0, len(kinds))
	for _, n := range kindNames() {
		out = append(out, kinds[n])
	}
	return out
}

func kindNames() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Differs returns the Differ of every kind that has one, by kind name.
func Differs() map[string]Differ {
	m := map[string]Differ{}
	for _, k := range Kinds() {
		if k.Differ != nil {
			m[k.Name] = k.Differ
		}
	}
	return m
}

// Check validates cfg against the kind's options: required ones present,
// single ones given once, no unknown names. It is what New relies on, and
// what a config file check reports.
func (k Kind) Check(cfg Config) error {
	known := map[string]Option{OptCluster: {Name: OptCluster, Required: true}, OptOnly: {Name: OptOnly, Repeated: true}}
	for _, o := range k.Options {
		known[o.Name] = o
	}
	for name, vals := range cfg.Values {
		o, ok := known[name]
		if !ok {
			return fmt.Errorf("%s source: unknown setting %q", k.Name, name)
		}
		if len(vals) > 1 && !o.Repeated && !o.Positional {
			return fmt.Errorf("%s source: setting %q given %d times; it takes one value", k.Name, name, len(vals))
		}
	}
	for _, o := range known {
		if o.Required && cfg.Get(o.Name) == "" {
			return fmt.Errorf("%s source: setting %q is required", k.Name, o.Name)
		}
	}
	return nil
}
