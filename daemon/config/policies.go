package config

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"gopkg.in/yaml.v3"
)

// FieldError is a bad value in a policy, naming the field (as the config
// and the API spell it).
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// policyKeys are a policy's keys, in the config and the API alike.
var policyKeys = []string{"name", "cluster", "objects", "interval", "cron", "grace", "retention", "store"}

// retentionKeys map forget's rules to their keys.
var retentionKeys = []string{"keep_last", "keep_hourly", "keep_daily", "keep_weekly", "keep_within"}

// policies reads `policies: [{name, cluster, objects, interval|cron,
// grace, retention, store}]`.
func (p *parser) policies(c *Config, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, "policies", "want a list")
	}
	for i, item := range n.Content {
		at := fmt.Sprintf("policies[%d]", i)
		pol, nodes, err := p.policy(c, item, at)
		if err != nil {
			return err
		}
		if err := c.CheckPolicy(pol); err != nil {
			fe := err.(*FieldError)
			node, ok := nodes[fe.Field]
			if !ok {
				node = item
			}
			return p.errf(node, at+"."+fe.Field, "%s", fe.Msg)
		}
		for _, other := range c.Policies {
			if other.Name == pol.Name {
				return p.errf(nodes["name"], at+".name", "%q: already the name of the policy at line %d", pol.Name, other.Line)
			}
		}
		c.Policies = append(c.Policies, pol)
	}
	return nil
}

// policy reads one policy's fields; CheckPolicy validates them. The
// nodes by field locate errors.
func (p *parser) policy(c *Config, item *yaml.Node, at string) (Policy, map[string]*yaml.Node, error) {
	m, _, err := p.mapping(item, at, policyKeys...)
	if err != nil {
		return Policy{}, nil, err
	}
	pol := Policy{Line: item.Line}
	strFields := map[string]*string{"name": &pol.Name, "cluster": &pol.Cluster, "cron": &pol.Cron, "store": &pol.Store}
	for key, dst := range strFields {
		if v, ok := m[key]; ok {
			if *dst, err = p.str(v, at+"."+key); err != nil {
				return pol, nil, err
			}
		}
	}
	if v, ok := m["objects"]; ok {
		if pol.Objects, err = p.strs(v, at+".objects"); err != nil {
			return pol, nil, err
		}
	}
	for key, dst := range map[string]*Duration{"interval": &pol.Interval, "grace": &pol.Grace} {
		if v, ok := m[key]; ok {
			d, err := p.duration(v, at+"."+key)
			if err != nil {
				return pol, nil, err
			}
			*dst = Duration(d)
		}
	}
	if v, ok := m["retention"]; ok {
		if err := p.retention(&pol, v, at+".retention"); err != nil {
			return pol, nil, err
		}
	}
	if _, ok := m["store"]; !ok && len(c.Stores) == 1 {
		pol.Store = sortedNames(c.Stores)[0]
	}
	return pol, m, nil
}

// retention reads forget's rules.
func (p *parser) retention(pol *Policy, n *yaml.Node, at string) error {
	m, _, err := p.mapping(n, at, retentionKeys...)
	if err != nil {
		return err
	}
	counts := map[string]*int{"keep_last": &pol.Retention.Last, "keep_hourly": &pol.Retention.Hourly, "keep_daily": &pol.Retention.Daily, "keep_weekly": &pol.Retention.Weekly}
	for key, dst := range counts {
		if v, ok := m[key]; ok {
			if *dst, err = p.positive(v, at+"."+key); err != nil {
				return err
			}
		}
	}
	if v, ok := m["keep_within"]; ok {
		if pol.Retention.Within, err = p.duration(v, at+".keep_within"); err != nil {
			return err
		}
	}
	if pol.Retention.Empty() {
		return p.errf(n, at, "give at least one of %s (or leave retention out to keep every version)", strings.Join(retentionKeys, ", "))
	}
	return nil
}

// CheckPolicy validates a policy against the config's clusters and
// stores; the error is a *FieldError naming the field.
func (c *Config) CheckPolicy(pol Policy) error {
	bad := func(field, format string, args ...any) error {
		return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if err := CheckName(pol.Name); err != nil {
		return bad("name", "%v", err)
	}
	if _, ok := c.Clusters[pol.Cluster]; !ok {
		return bad("cluster", "%q: no such cluster (have: %v)", pol.Cluster, sortedNames(c.Clusters))
	}
	if _, ok := c.Stores[pol.Store]; !ok {
		return bad("store", "%q: no such store (have: %v)", pol.Store, sortedNames(c.Stores))
	}
	for i, o := range pol.Objects {
		if err := checkPattern(o); err != nil {
			return bad(fmt.Sprintf("objects[%d]", i), "%v", err)
		}
	}
	switch {
	case pol.Interval == 0 && pol.Cron == "":
		return bad("interval", "give an interval (e.g. 6h) or a cron expression")
	case pol.Interval != 0 && pol.Cron != "":
		return bad("cron", "give an interval or a cron expression, not both")
	case pol.Interval < 0 || (pol.Interval > 0 && time.Duration(pol.Interval) < time.Second):
		return bad("interval", "%s: want at least 1s", time.Duration(pol.Interval))
	case pol.Cron != "":
		if _, err := cron.ParseStandard(pol.Cron); err != nil {
			return bad("cron", "%q: %v", pol.Cron, err)
		}
	}
	if pol.Grace < 0 {
		return bad("grace", "want a duration of 0 or more")
	}
	return nil
}

// checkPattern accepts DB[/TABLE] shell patterns.
func checkPattern(p string) error {
	db, table, _ := strings.Cut(p, "/")
	if db == "" {
		return fmt.Errorf("%q: want DB or DB/TABLE (shell patterns)", p)
	}
	for _, part := range []string{db, table} {
		if _, err := path.Match(part, ""); err != nil {
			return fmt.Errorf("%q: %v", p, err)
		}
	}
	return nil
}

// RPO is how old the newest version may get: the interval, or for a cron
// policy the gap between its next two runs after t.
func (pol Policy) RPO(t time.Time) time.Duration {
	if pol.Interval > 0 {
		return time.Duration(pol.Interval)
	}
	s, err := cron.ParseStandard(pol.Cron)
	if err != nil {
		return 0
	}
	a := s.Next(t)
	return s.Next(a).Sub(a)
}

// Next is when a policy whose last run started at last runs again; a
// zero last means now.
func (pol Policy) Next(last time.Time) time.Time {
	if last.IsZero() {
		return time.Time{}
	}
	if pol.Interval > 0 {
		return last.Add(time.Duration(pol.Interval))
	}
	s, err := cron.ParseStandard(pol.Cron)
	if err != nil {
		return time.Time{}
	}
	return s.Next(last)
}

// GraceOrDefault is the policy's grace, a quarter of the RPO by default.
func (pol Policy) GraceOrDefault(t time.Time) time.Duration {
	if pol.Grace > 0 {
		return time.Duration(pol.Grace)
	}
	return pol.RPO(t) / 4
}
