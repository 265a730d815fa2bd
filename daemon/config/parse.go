package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parser walks the YAML tree, so every error carries the line and the
// key path of the node at fault.
type parser struct {
	file string
}

// errf formats an error at node n, key path at.
func (p *parser) errf(n *yaml.Node, at, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s: %s", p.file, n.Line, at, fmt.Sprintf(format, args...))
}

// join extends a key path.
func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

// mapping returns n's keys, refusing unknown and repeated ones. Keys in
// order of appearance are in the second result.
func (p *parser) mapping(n *yaml.Node, at string, known ...string) (map[string]*yaml.Node, []*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, nil, p.errf(n, at, "want a mapping of keys to values")
	}
	out := map[string]*yaml.Node{}
	var keys []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if known != nil && !contains(known, k.Value) {
			return nil, nil, p.errf(k, join(at, k.Value), "unknown key (known: %s)", strings.Join(known, ", "))
		}
		if _, dup := out[k.Value]; dup {
			return nil, nil, p.errf(k, join(at, k.Value), "given twice")
		}
		out[k.Value] = v
		keys = append(keys, k)
	}
	return out, keys, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar.
func (p *parser) str(n *yaml.Node, at string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, at, "want a single value")
	}
	return n.Value, nil
}

// strs reads a scalar or a sequence of scalars.
func (p *parser) strs(n *yaml.Node, at string) ([]string, error) {
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n, at, "want a value or a list of values")
	}
	var out []string
	for i, c := range n.Content {
		s, err := p.str(c, fmt.Sprintf("%s[%d]", at, i))
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// positive reads a whole number above zero.
func (p *parser) positive(n *yaml.Node, at string) (int, error) {
	s, err := p.str(n, at)
	if err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(s)
	if err != nil || v <= 0 {
		return 0, p.errf(n, at, "%q: want a whole number above 0", s)
	}
	return v, nil
}

// duration reads a duration ("90s", "6h", "7d").
func (p *parser) duration(n *yaml.Node, at string) (time.Duration, error) {
	s, err := p.str(n, at)
	if err != nil {
		return 0, err
	}
	d, err := ParseDuration(s)
	if err != nil {
		return 0, p.errf(n, at, "%v", err)
	}
	if d <= 0 {
		return 0, p.errf(n, at, "%q: want a duration above 0", s)
	}
	return d, nil
}

// config reads the top-level mapping.
func (p *parser) config(root *yaml.Node) (*Config, error) {
	m, _, err := p.mapping(root, "", "state_dir", "api", "mount", "stores", "clusters", "policies", "webhooks")
	if err != nil {
		return nil, err
	}
	c := &Config{File: p.file, API: API{Listen: DefaultListen}}
	if n, ok := m["state_dir"]; ok {
		if c.StateDir, err = p.str(n, "state_dir"); err != nil {
			return nil, err
		}
	}
	if c.StateDir == "" {
		return nil, fmt.Errorf("%s:%d: state_dir: required (a directory for the job log)", p.file, root.Line)
	}
	steps := []func() error{
		func() error { return p.stores(c, m["stores"], root) },
		func() error { return p.clusters(c, m["clusters"]) },
		func() error { return p.policies(c, m["policies"]) },
		func() error { return p.api(c, m["api"]) },
		func() error { return p.mount(c, m["mount"]) },
		func() error { return p.webhooks(c, m["webhooks"]) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// sortedNames lists a map's keys in order, for stable iteration.
func sortedNames[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
