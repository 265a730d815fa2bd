package config

import (
	"fmt"
	"net"
	"net/url"

	"gopkg.in/yaml.v3"
)

// stores reads `stores: {NAME: {location, cache_dir, max_jobs}}`.
func (p *parser) stores(c *Config, n, root *yaml.Node) error {
	if n == nil {
		return fmt.Errorf("%s:%d: stores: required (at least one store)", p.file, root.Line)
	}
	_, keys, err := p.mapping(n, "stores")
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return p.errf(n, "stores", "at least one store is required")
	}
	c.Stores = map[string]Store{}
	for i, k := range keys {
		at := "stores." + k.Value
		m, _, err := p.mapping(n.Content[2*i+1], at, "location", "cache_dir", "max_jobs")
		if err != nil {
			return err
		}
		s := Store{Name: k.Value, MaxJobs: 2}
		if err := p.name(k, at); err != nil {
			return err
		}
		if v, ok := m["location"]; !ok {
			return p.errf(k, at+".location", "required (a directory or an rclone remote)")
		} else if s.Location, err = p.str(v, at+".location"); err != nil {
			return err
		}
		if v, ok := m["cache_dir"]; ok {
			if s.CacheDir, err = p.str(v, at+".cache_dir"); err != nil {
				return err
			}
		}
		if v, ok := m["max_jobs"]; ok {
			if s.MaxJobs, err = p.positive(v, at+".max_jobs"); err != nil {
				return err
			}
		}
		c.Stores[s.Name] = s
	}
	return nil
}

// name checks a store, cluster or policy name: it appears in paths and
// URLs, so it is kept plain.
func (p *parser) name(k *yaml.Node, at string) error {
	if err := CheckName(k.Value); err != nil {
		return p.errf(k, at, "%v", err)
	}
	return nil
}

// CheckName accepts names of letters, digits, '-', '_' and '.', not
// starting with '.', as cluster, store and policy names.
func CheckName(s string) error {
	if s == "" || len(s) > 100 || s[0] == '.' {
		return fmt.Errorf("%q: want 1-100 letters, digits, '-', '_' or '.', not starting with '.'", s)
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !ok {
			return fmt.Errorf("%q: want 1-100 letters, digits, '-', '_' or '.', not starting with '.'", s)
		}
	}
	return nil
}

// api reads `api: {listen, token_file, tls_cert, tls_key}`.
func (p *parser) api(c *Config, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	m, _, err := p.mapping(n, "api", "listen", "token_file", "tls_cert", "tls_key")
	if err != nil {
		return err
	}
	fields := map[string]*string{"listen": &c.API.Listen, "token_file": &c.API.TokenFile, "tls_cert": &c.API.TLSCert, "tls_key": &c.API.TLSKey}
	for key, dst := range fields {
		if v, ok := m[key]; ok {
			if *dst, err = p.str(v, "api."+key); err != nil {
				return err
			}
		}
	}
	if v, ok := m["listen"]; ok {
		if _, _, err := net.SplitHostPort(c.API.Listen); err != nil {
			return p.errf(v, "api.listen", "%q: want HOST:PORT, e.g. 127.0.0.1:7878", c.API.Listen)
		}
		if !IsLoopback(c.API.Listen) && c.API.TokenFile == "" {
			return p.errf(v, "api.listen", "%q is not a loopback address: set api.token_file (a bearer token) to listen there", c.API.Listen)
		}
	}
	if (c.API.TLSCert == "") != (c.API.TLSKey == "") {
		return p.errf(n, "api", "tls_cert and tls_key go together: give both or neither")
	}
	return nil
}

// mount reads `mount: {path, store}`.
func (p *parser) mount(c *Config, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	m, _, err := p.mapping(n, "mount", "path", "store")
	if err != nil {
		return err
	}
	c.Mount = &Mount{}
	v, ok := m["path"]
	if !ok {
		return p.errf(n, "mount.path", "required (an empty directory)")
	}
	if c.Mount.Path, err = p.str(v, "mount.path"); err != nil {
		return err
	}
	c.Mount.Store, err = p.storeRef(c, m["store"], n, "mount.store")
	return err
}

// storeRef reads a reference to a configured store; absent, it is the
// only store when there is one.
func (p *parser) storeRef(c *Config, v, parent *yaml.Node, at string) (string, error) {
	if v == nil {
		if len(c.Stores) == 1 {
			return sortedNames(c.Stores)[0], nil
		}
		return "", p.errf(parent, at, "required: there are %d stores", len(c.Stores))
	}
	s, err := p.str(v, at)
	if err != nil {
		return "", err
	}
	if _, ok := c.Stores[s]; !ok {
		return "", p.errf(v, at, "%q: no such store (have: %v)", s, sortedNames(c.Stores))
	}
	return s, nil
}

// webhooks reads `webhooks: [{url, min_class}]`.
func (p *parser) webhooks(c *Config, n *yaml.Node) error {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, "webhooks", "want a list")
	}
	for i, item := range n.Content {
		at := fmt.Sprintf("webhooks[%d]", i)
		m, _, err := p.mapping(item, at, "url", "min_class")
		if err != nil {
			return err
		}
		w := Webhook{MinClass: "info"}
		v, ok := m["url"]
		if !ok {
			return p.errf(item, at+".url", "required")
		}
		if w.URL, err = p.webhookURL(v, at+".url"); err != nil {
			return err
		}
		if v, ok := m["min_class"]; ok {
			if w.MinClass, err = p.str(v, at+".min_class"); err != nil {
				return err
			}
			if ClassRank(w.MinClass) < 0 {
				return p.errf(v, at+".min_class", "%q: want critical, error, warning or info", w.MinClass)
			}
		}
		c.Webhooks = append(c.Webhooks, w)
	}
	return nil
}

// webhookURL reads a webhook's URL: a literal, or {env: VAR} / {file:
// PATH} as for secrets, since such URLs usually are ones (a token in the
// path or query, a password in the userinfo). A reference is read now,
// at load and at each reload. Errors show the URL only as RedactURL does.
func (p *parser) webhookURL(n *yaml.Node, at string) (string, error) {
	var raw string
	if n.Kind == yaml.MappingNode {
		v, err := p.reference(n, at)
		if err != nil {
			return "", err
		}
		if raw, err = v.resolve(); err != nil {
			return "", p.errf(n, at, "%s: %v", v, err)
		}
	} else {
		var err error
		if raw, err = p.str(n, at); err != nil {
			return "", err
		}
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", p.errf(n, at, "%q: want an http:// or https:// URL", RedactURL(raw))
	}
	return raw, nil
}

// RedactURL returns a URL's scheme and host only, for logs and errors: a
// webhook URL carries its credentials in the userinfo, the path (Slack's
// /services/T/B/SECRET) or the query (?token=...), so none of them is
// ever shown.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "<unparsable URL>"
	}
	if u.Host == "" {
		return u.Scheme + "://"
	}
	return u.Scheme + "://" + u.Host
}

// ClassRank orders alert classes, info lowest; -1 for an unknown class.
func ClassRank(class string) int {
	switch class {
	case "info":
		return 0
	case "warning":
		return 1
	case "error":
		return 2
	case "critical":
		return 3
	}
	return -1
}
