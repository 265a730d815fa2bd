package cassandra

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gocql/gocql"

	"github.com/stratabackup/strata/sources"
)

var (
	_ sources.Source        = (*Source)(nil)
	_ sources.SessionSource = (*Source)(nil)
)

// Source backs up the tables of one Cassandra cluster.
type Source struct {
	cfg Config

	mu     sync.Mutex
	sess   *gocql.Session
	policy *hostPolicy
}

// New validates cfg; the cluster is contacted at the first Discover or
// Backup.
func New(cfg Config) (*Source, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Source{cfg: cfg}, nil
}

// Kind returns "cassandra".
func (s *Source) Kind() string { return Kind }

// conn returns the session, connecting on first use.
func (s *Source) conn() (*gocql.Session, *hostPolicy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess != nil {
		return s.sess, s.policy, nil
	}
	sess, pol, err := connect(connOptions{Hosts: s.cfg.Hosts, User: s.cfg.Username, Password: s.cfg.Password, TLS: s.cfg.TLS, Timeout: s.cfg.Timeout})
	if err != nil {
		return nil, nil, err
	}
	s.sess, s.policy = sess, pol
	return sess, pol, nil
}

// Close closes the connections.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sess != nil {
		s.sess.Close()
		s.sess = nil
	}
	return nil
}

// hostsString names the cluster in messages.
func (s *Source) hostsString() string { return strings.Join(s.cfg.Hosts, ",") }

// isSystemKeyspace tells Cassandra's own keyspaces, left out of discovery
// unless named.
func isSystemKeyspace(ks string) bool {
	return ks == "system" || strings.HasPrefix(ks, "system_") || strings.HasPrefix(ks, "dse_") || ks == "solr_admin"
}

// Discover lists the tables of the configured keyspaces (default: every
// keyspace but the system ones), sorted. A keyspace or table named
// literally in the configuration that does not exist is an error.
func (s *Source) Discover(ctx context.Context) ([]sources.Object, error) {
	sess, _, err := s.conn()
	if err != nil {
		return nil, err
	}
	iter := sess.Query(`SELECT keyspace_name, table_name FROM system_schema.tables`).WithContext(ctx).Iter()
	var ks, tb string
	var objs []sources.Object
	seenKS := map[string]bool{}
	for iter.Scan(&ks, &tb) {
		seenKS[ks] = true
		if s.wanted(ks, tb) {
			objs = append(objs, sources.Object{Cluster: s.cfg.Cluster, Database: ks, Table: tb, Meta: map[string]string{}})
		}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cassandra %s: list tables: %w", s.hostsString(), err)
	}
	if err := s.checkNamed(seenKS, objs); err != nil {
		return nil, err
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].String() < objs[j].String() })
	return objs, nil
}

func (s *Source) wanted(ks, tb string) bool {
	if slices.Contains(s.cfg.Tables, ks+"."+tb) {
		return true
	}
	if len(s.cfg.Keyspaces) > 0 {
		return slices.Contains(s.cfg.Keyspaces, ks) && !(isSystemKeyspace(ks) && s.namesTableIn(ks))
	}
	return !isSystemKeyspace(ks)
}

// namesTableIn reports whether a table of ks is named: then only the
// named tables of a system keyspace are discovered.
func (s *Source) namesTableIn(ks string) bool {
	return slices.ContainsFunc(s.cfg.Tables, func(t string) bool { return strings.HasPrefix(t, ks+".") })
}

// checkNamed fails for a keyspace or table named literally that the
// cluster does not have.
func (s *Source) checkNamed(seenKS map[string]bool, objs []sources.Object) error {
	for _, ks := range s.cfg.Keyspaces {
		if !seenKS[ks] {
			return fmt.Errorf("cassandra %s: keyspace %q does not exist", s.hostsString(), ks)
		}
	}
	for _, t := range s.cfg.Tables {
		if !slices.ContainsFunc(objs, func(o sources.Object) bool { return o.Database+"."+o.Table == t }) {
			return fmt.Errorf("cassandra %s: table %q does not exist", s.hostsString(), t)
		}
	}
	return nil
}

// serverTime is the coordinator's clock, in microseconds: cells' write
// times come from clients and coordinators, so a scan's start is taken
// from the cluster rather than from this machine.
func serverTime(ctx context.Context, sess *gocql.Session) time.Time {
	var ms int64
	err := sess.Query(`SELECT toUnixTimestamp(now()) FROM system.local`).WithContext(ctx).Scan(&ms)
	if err != nil || ms <= 0 {
		return time.Now()
	}
	return time.UnixMilli(ms)
}
