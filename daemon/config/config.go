package config

import (
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/stratabackup/strata/daemon/engine"
)

// DefaultListen is the API's address when the config names none: the
// loopback interface only, so no token is needed.
const DefaultListen = "127.0.0.1:7878"

// Config is a validated daemon configuration.
type Config struct {
	// File is the path it was read from, for messages.
	File string
	// StateDir holds the job log (a Pebble database).
	StateDir string
	API      API
	Mount    *Mount
	Stores   map[string]Store
	Clusters map[string]Cluster
	Policies []Policy
	Webhooks []Webhook
}

// API says where the REST API listens and how it is protected.
type API struct {
	Listen string
	// TokenFile holds the bearer token; required unless Listen is a
	// loopback address.
	TokenFile string
	// TLSCert and TLSKey enable HTTPS when both are set.
	TLSCert, TLSKey string
}

// Mount keeps a store mounted while the daemon runs.
type Mount struct {
	Path  string
	Store string
}

// Store is a named store location.
type Store struct {
	Name     string
	Location string
	CacheDir string
	// MaxJobs bounds concurrent jobs on the store (default 2).
	MaxJobs int
}

// Cluster is a named source: a registered kind and its settings.
type Cluster struct {
	Name string
	Kind string
	// Options are the kind's settings; secret ones are References.
	Options map[string][]Value
	// MaxJobs bounds concurrent jobs reading the cluster (default 1).
	MaxJobs int
	// Line is where the cluster is defined.
	Line int
}

// Value is one option value: a literal, or a reference to an env var or
// a file (the only form a secret option takes).
type Value struct {
	Literal string
	Env     string
	File    string
}

// Policy says which objects of a cluster are backed up how often, kept
// how long, and into which store.
type Policy struct {
	Name    string `json:"name"`
	Cluster string `json:"cluster"`
	// Objects are DB[/TABLE] shell patterns; none means every object.
	Objects []string `json:"objects,omitempty"`
	// Interval is the RPO; zero when Cron is set.
	Interval Duration `json:"interval,omitempty"`
	// Cron is a standard 5-field cron expression.
	Cron string `json:"cron,omitempty"`
	// Grace is how far past the RPO a newest version may be before the
	// RPO counts as missed (default a quarter of the RPO).
	Grace     Duration      `json:"grace,omitempty"`
	Retention engine.Policy `json:"retention"`
	Store     string        `json:"store"`
	// Line is where the policy is defined; 0 for policies made through
	// the API.
	Line int `json:"-"`
}

// Webhook receives alerts as JSON POSTs.
type Webhook struct {
	URL string
	// MinClass is the least severe class sent (default info: all).
	MinClass string
}

// Load reads and validates the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse validates data, read from file (named in errors).
func Parse(file string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	p := &parser{file: file}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty config (see `strata daemon example-config`)", file)
	}
	return p.config(doc.Content[0])
}

// IsLoopback reports whether a listen address binds only the loopback
// interface.
func IsLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Duration is a time.Duration that reads and writes as "90s", "1h".
type Duration time.Duration

// MarshalText writes the duration as Go writes it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration, with "d" for days.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// ParseDuration reads a Go duration, also accepting whole days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q: not a duration (e.g. 90s, 15m, 6h, 7d)", s)
	}
	return v, nil
}
