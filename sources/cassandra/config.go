package cassandra

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gocql/gocql"
)

// PasswordEnv is the environment variable a password is read from when no
// password file is configured. Passwords are never taken from the command
// line or a config value, and never logged or recorded.
const PasswordEnv = "STRATA_CASSANDRA_PASSWORD"

// Config says which cluster to back up and how.
type Config struct {
	// Cluster names the cluster in the store (the first level of a
	// version's name).
	Cluster string
	// Hosts are contact points, host or host:port (default port 9042).
	Hosts []string
	// Username and Password authenticate with PasswordAuthenticator;
	// Password comes from PasswordFile or the environment (see
	// PasswordEnv), never from the command line.
	Username, Password string
	// TLS, when non-nil, encrypts every connection.
	TLS *tls.Config
	// Consistency of the range reads (default LOCAL_QUORUM).
	Consistency gocql.Consistency
	// LocalDC prefers replicas of this datacenter; "" means any.
	LocalDC string
	// Parallelism is how many range requests run at once per node
	// (default 2).
	Parallelism int
	// PageSize is the rows per page of a range read (default 2000).
	PageSize int
	// Timeout bounds one request (default 30 s).
	Timeout time.Duration
	// Keyspaces limits discovery to these keyspaces; empty means every
	// keyspace but the system ones. Tables names "ks.table"s to discover
	// even in a system keyspace.
	Keyspaces, Tables []string
	// PartBytes is the target size of one data part (default 64 MiB).
	PartBytes int64
	// Logger receives progress and swallowed errors (default slog.Default).
	Logger *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Cluster == "" {
		return c, errors.New("cassandra source: no cluster name configured")
	}
	if len(c.Hosts) == 0 {
		return c, fmt.Errorf("cassandra source %q: no hosts configured (--hosts H1,H2)", c.Cluster)
	}
	for _, h := range c.Hosts {
		if _, err := splitHostPort(h); err != nil {
			return c, fmt.Errorf("cassandra source %q: %w", c.Cluster, err)
		}
	}
	if c.Consistency == gocql.Any {
		c.Consistency = gocql.LocalQuorum
	}
	if c.Parallelism <= 0 {
		c.Parallelism = 2
	}
	if c.PageSize <= 0 {
		c.PageSize = 2000
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.PartBytes <= 0 {
		c.PartBytes = 64 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Logger = c.Logger.With("source", "cassandra", "cluster", c.Cluster)
	return c, nil
}

// splitHostPort checks a contact point and returns it as host:port.
func splitHostPort(h string) (string, error) {
	if h == "" {
		return "", errors.New("empty host in --hosts")
	}
	if host, port, err := net.SplitHostPort(h); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil || host == "" {
			return "", fmt.Errorf("bad host %q: want HOST or HOST:PORT", h)
		}
		return h, nil
	}
	if strings.Contains(h, "/") {
		return "", fmt.Errorf("bad host %q: want HOST or HOST:PORT", h)
	}
	return net.JoinHostPort(h, "9042"), nil
}

// splitHosts splits comma-separated host lists ("h1,h2" or repeated).
func splitHosts(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				out = append(out, h)
			}
		}
	}
	return out
}

// parseConsistency reads a consistency level name (LOCAL_QUORUM,
// local_one, QUORUM...).
func parseConsistency(s string) (gocql.Consistency, error) {
	if s == "" {
		return gocql.LocalQuorum, nil
	}
	c, err := gocql.ParseConsistencyWrapper(strings.ToUpper(s))
	if err != nil || c == gocql.Any || c == gocql.Three || c == gocql.Two {
		return 0, fmt.Errorf("bad consistency %q: want LOCAL_QUORUM (default), LOCAL_ONE, ONE, QUORUM, EACH_QUORUM or ALL", s)
	}
	return c, nil
}

// readPassword returns the password of a file (trailing newline cut) or
// else of the environment.
func readPassword(file string) (string, error) {
	if file == "" {
		return os.Getenv(PasswordEnv), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read the password file (password-file): %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// TLSOptions are the TLS settings as given.
type TLSOptions struct {
	Enable     bool
	CAFile     string
	CertFile   string
	KeyFile    string
	ServerName string
	SkipVerify bool
}

// Config builds a tls.Config, nil when TLS is off.
func (o TLSOptions) Config() (*tls.Config, error) {
	if !o.Enable && o.CAFile == "" && o.CertFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: o.ServerName, InsecureSkipVerify: o.SkipVerify, MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls-ca %s: no PEM certificate in it", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("tls-cert and tls-key go together")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls-cert/tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
