package config

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/stratabackup/strata/sources"
)

// clusters reads `clusters: {NAME: {kind, options, max_jobs}}`, each
// option checked against the kind's registered options.
func (p *parser) clusters(c *Config, n *yaml.Node) error {
	c.Clusters = map[string]Cluster{}
	if n == nil {
		return nil
	}
	_, keys, err := p.mapping(n, "clusters")
	if err != nil {
		return err
	}
	for i, k := range keys {
		at := "clusters." + k.Value
		if err := p.name(k, at); err != nil {
			return err
		}
		cl, err := p.cluster(k.Value, n.Content[2*i+1], at)
		if err != nil {
			return err
		}
		cl.Line = k.Line
		c.Clusters[cl.Name] = cl
	}
	return nil
}

func (p *parser) cluster(name string, n *yaml.Node, at string) (Cluster, error) {
	m, _, err := p.mapping(n, at, "kind", "options", "max_jobs")
	if err != nil {
		return Cluster{}, err
	}
	cl := Cluster{Name: name, MaxJobs: 1, Options: map[string][]Value{}}
	v, ok := m["kind"]
	if !ok {
		return cl, p.errf(n, at+".kind", "required (one of: %s)", kindNames())
	}
	if cl.Kind, err = p.str(v, at+".kind"); err != nil {
		return cl, err
	}
	kind, err := sources.LookupKind(cl.Kind)
	if err != nil {
		return cl, p.errf(v, at+".kind", "%v", err)
	}
	if v, ok := m["max_jobs"]; ok {
		if cl.MaxJobs, err = p.positive(v, at+".max_jobs"); err != nil {
			return cl, err
		}
	}
	if v, ok := m["options"]; ok {
		if err := p.options(&cl, kind, v, at+".options"); err != nil {
			return cl, err
		}
	}
	if err := kind.Check(placeholderConfig(cl)); err != nil {
		return cl, p.errf(n, at+".options", "%v", err)
	}
	return cl, nil
}

func kindNames() string {
	var names []string
	for _, k := range sources.Kinds() {
		names = append(names, k.Name)
	}
	return strings.Join(names, ", ")
}

// options reads a cluster's options: each a known option of the kind,
// secret ones only as {env: NAME} or {file: PATH}.
func (p *parser) options(cl *Cluster, kind sources.Kind, n *yaml.Node, at string) error {
	_, keys, err := p.mapping(n, at)
	if err != nil {
		return err
	}
	for i, k := range keys {
		kat := join(at, k.Value)
		opt, ok := findOption(kind, k.Value)
		if !ok {
			return p.errf(k, kat, "unknown option of kind %s (known: %s)", kind.Name, optionNames(kind))
		}
		vals, err := p.values(n.Content[2*i+1], kat, opt.Secret)
		if err != nil {
			return err
		}
		if err := fileOptionByPath(opt, vals); err != nil {
			return p.errf(k, kat, "%v", err)
		}
		if len(vals) > 1 && !opt.Repeated {
			return p.errf(k, kat, "takes one value, not %d", len(vals))
		}
		cl.Options[k.Value] = vals
	}
	return nil
}

// fileOptionByPath refuses {file: PATH} for an option that itself names
// a file (password-file, dsn-file): the reference would resolve to the
// file's content, the secret, which the source then opens as a path and
// echoes in its error into logs, jobs, alerts and webhooks.
func fileOptionByPath(opt sources.Option, vals []Value) error {
	if !strings.HasSuffix(opt.Name, "-file") {
		return nil
	}
	for _, v := range vals {
		if v.File != "" {
			return fmt.Errorf("names a file: give its path (%s: %s), not {file: %s}, which would read the secret itself in its place", opt.Name, v.File, v.File)
		}
	}
	return nil
}

func findOption(kind sources.Kind, name string) (sources.Option, bool) {
	for _, o := range kind.Options {
		if o.Name == name {
			return o, true
		}
	}
	return sources.Option{}, false
}

func optionNames(kind sources.Kind) string {
	var names []string
	for _, o := range kind.Options {
		names = append(names, o.Name)
	}
	return strings.Join(names, ", ")
}

// values reads an option's value(s): literals, or references.
func (p *parser) values(n *yaml.Node, at string, secret bool) ([]Value, error) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []Value
	for _, it := range items {
		if it.Kind == yaml.MappingNode {
			v, err := p.reference(it, at)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if secret {
			return nil, p.errf(it, at, "a secret is never written in the config: use {env: VAR} or {file: PATH}")
		}
		s, err := p.str(it, at)
		if err != nil {
			return nil, err
		}
		out = append(out, Value{Literal: s})
	}
	return out, nil
}

// reference reads {env: NAME} or {file: PATH}.
func (p *parser) reference(n *yaml.Node, at string) (Value, error) {
	m, _, err := p.mapping(n, at, "env", "file")
	if err != nil {
		return Value{}, err
	}
	if len(m) != 1 {
		return Value{}, p.errf(n, at, "want exactly one of env or file")
	}
	var v Value
	if e, ok := m["env"]; ok {
		v.Env, err = p.str(e, at+".env")
	} else {
		v.File, err = p.str(m["file"], at+".file")
	}
	return v, err
}

// placeholderConfig is the cluster's settings with references unresolved,
// enough for the kind's Check.
func placeholderConfig(cl Cluster) sources.Config {
	cfg := sources.NewConfig()
	cfg.Set(sources.OptCluster, cl.Name)
	for name, vals := range cl.Options {
		var s []string
		for _, v := range vals {
			s = append(s, v.String())
		}
		cfg.Set(name, s...)
	}
	return cfg
}

// String shows a value without revealing a secret: references print as
// what they refer to.
func (v Value) String() string {
	switch {
	case v.Env != "":
		return "$" + v.Env
	case v.File != "":
		return "<file " + v.File + ">"
	}
	return v.Literal
}

// SourceConfig resolves the cluster's settings for a backup: references
// are read now (so a rotated secret is picked up), and errors name the
// reference, never its content.
func (cl Cluster) SourceConfig() (sources.Config, error) {
	cfg := sources.NewConfig()
	cfg.Set(sources.OptCluster, cl.Name)
	for name, vals := range cl.Options {
		var s []string
		for _, v := range vals {
			r, err := v.resolve()
			if err != nil {
				return cfg, fmt.Errorf("cluster %s option %s: %w", cl.Name, name, err)
			}
			s = append(s, r)
		}
		cfg.Set(name, s...)
	}
	return cfg, nil
}

func (v Value) resolve() (string, error) {
	switch {
	case v.Env != "":
		s, ok := os.LookupEnv(v.Env)
		if !ok || s == "" {
			return "", fmt.Errorf("environment variable %s is not set", v.Env)
		}
		return s, nil
	case v.File != "":
		b, err := os.ReadFile(v.File)
		if err != nil {
			return "", fmt.Errorf("read secret file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v.Literal, nil
}
