package mongodb

import (
	"fmt"
	"log/slog"
	"strings"
)

// Config says which server to back up and how.
type Config struct {
	// URI is a mongodb:// or mongodb+srv:// connection string. It may hold
	// credentials; they are never logged nor recorded (see RedactURI).
	URI string
	// Cluster names the cluster in the store (the first level of a
	// version's name).
	Cluster string
	// Databases limits discovery to these databases; empty means every
	// database except admin, local and config.
	Databases []string
	// Collections names "db.collection"s to discover even though they are
	// system collections (system.*) or lie in a system database; every
	// other non-system collection of the chosen databases is discovered as
	// well, for the caller to filter.
	Collections []string
	// Workers is how many _id ranges of one collection are read at once
	// (default 4).
	Workers int
	// BatchSize is the server cursor batch size in documents (default 1000).
	BatchSize int
	// RangeBytes is the target size of one _id range; collections larger
	// than this are read in parallel ranges (default 64 MiB).
	RangeBytes int64
	// Logger receives progress and swallowed errors (default slog.Default).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.URI == "" {
		return c, fmt.Errorf("mongodb source %q: no URI configured", c.Cluster)
	}
	if c.Cluster == "" {
		return c, fmt.Errorf("mongodb source %s: no cluster name configured", RedactURI(c.URI))
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.RangeBytes <= 0 {
		c.RangeBytes = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("source", "mongodb", "cluster", c.Cluster)
	return c, nil
}

// RedactURI returns the connection string without user, password and
// query options (which may carry secrets such as tlsCertificateKeyFilePassword),
// for messages and manifests. It parses nothing: a password may hold an
// unescaped '/', '@', ':' or '?', so a URL parser can misread it as a host,
// port or path and keep it. Everything between "://" and the last '@' is
// dropped, then everything from the first '?' or '#'. A string that does
// not start with mongodb:// or mongodb+srv:// yields "mongodb://<redacted>".
func RedactURI(uri string) string {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok || (scheme != "mongodb" && scheme != "mongodb+srv") {
		return "mongodb://<redacted>"
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	return scheme + "://" + rest
}
