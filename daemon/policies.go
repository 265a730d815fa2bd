package daemon

import (
	"errors"
	"fmt"
	"sort"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/joblog"
)

// ErrNotFound is returned (wrapped) for an unknown job, policy or object.
var ErrNotFound = joblog.ErrNotFound

// ErrConflict is returned (wrapped) for a request that the current state
// refuses: editing a policy of the config file, cancelling a finished job.
var ErrConflict = errors.New("conflict")

// PolicyInfo is a policy and where it comes from.
type PolicyInfo struct {
	config.Policy
	// Source is "config" (the file, at Line) or "api".
	Source string `json:"source"`
}

// Policies lists the config's policies, then the API's, by name.
func (d *Daemon) Policies() []PolicyInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.policiesLocked()
}

func (d *Daemon) policiesLocked() []PolicyInfo {
	var out []PolicyInfo
	for _, p := range d.cfg.Policies {
		out = append(out, PolicyInfo{Policy: p, Source: "config"})
	}
	var api []PolicyInfo
	for _, p := range d.apiPolicies {
		if d.cfg.CheckPolicy(p) == nil {
			api = append(api, PolicyInfo{Policy: p, Source: "api"})
		}
	}
	sort.Slice(api, func(i, j int) bool { return api[i].Name < api[j].Name })
	return append(out, api...)
}

// Policy returns one policy by name.
func (d *Daemon) Policy(name string) (PolicyInfo, error) {
	for _, p := range d.Policies() {
		if p.Name == name {
			return p, nil
		}
	}
	return PolicyInfo{}, fmt.Errorf("policy %q: %w", name, ErrNotFound)
}

// PutPolicy creates or replaces a policy made through the API. create
// refuses an existing name. Errors are *config.FieldError for bad
// fields, ErrConflict for a name the config file holds.
func (d *Daemon) PutPolicy(p config.Policy, create bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if p.Store == "" && len(d.cfg.Stores) == 1 {
		for name := range d.cfg.Stores {
			p.Store = name
		}
	}
	if err := d.cfg.CheckPolicy(p); err != nil {
		return err
	}
	for _, c := range d.cfg.Policies {
		if c.Name == p.Name {
			return fmt.Errorf("policy %q is defined in %s line %d; edit the file and reload: %w", p.Name, d.cfg.File, c.Line, ErrConflict)
		}
	}
	_, exists := d.apiPolicies[p.Name]
	if create && exists {
		return fmt.Errorf("policy %q exists: %w", p.Name, ErrConflict)
	}
	if !create && !exists {
		return fmt.Errorf("policy %q: %w", p.Name, ErrNotFound)
	}
	p.Line = 0
	if err := d.jl.PutPolicy(p.Name, p); err != nil {
		return err
	}
	d.apiPolicies[p.Name] = p
	d.alert(joblog.Alert{Class: "info", Policy: p.Name, Message: fmt.Sprintf("policy %s %s through the API", p.Name, map[bool]string{true: "created", false: "changed"}[create])})
	return nil
}

// DeletePolicy removes a policy made through the API.
func (d *Daemon) DeletePolicy(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.cfg.Policies {
		if c.Name == name {
			return fmt.Errorf("policy %q is defined in %s line %d; edit the file and reload: %w", name, d.cfg.File, c.Line, ErrConflict)
		}
	}
	if _, ok := d.apiPolicies[name]; !ok {
		return fmt.Errorf("policy %q: %w", name, ErrNotFound)
	}
	if err := d.jl.DeletePolicy(name); err != nil {
		return err
	}
	delete(d.apiPolicies, name)
	d.alert(joblog.Alert{Class: "info", Policy: name, Message: fmt.Sprintf("policy %s deleted through the API", name)})
	return nil
}

// Reload switches to a new config (SIGHUP). Running and queued jobs go
// on; the schedule follows the new policies from the next tick. Changed
// policies are reported as info alerts.
func (d *Daemon) Reload(cfg *config.Config) {
	d.mu.Lock()
	old := d.cfg
	d.cfg = cfg
	d.mu.Unlock()
	d.hooks.SetHooks(cfg.Webhooks)
	for _, msg := range policyChanges(old, cfg) {
		d.alert(joblog.Alert{Class: "info", Message: msg})
	}
	d.log.Info("config reloaded", "file", cfg.File)
}

// policyChanges describes how the config's policies changed.
func policyChanges(old, cur *config.Config) []string {
	was := map[string]config.Policy{}
	for _, p := range old.Policies {
		was[p.Name] = p
	}
	var out []string
	for _, p := range cur.Policies {
		o, ok := was[p.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("policy %s added by a config reload", p.Name))
		case fmt.Sprint(stripLine(o)) != fmt.Sprint(stripLine(p)):
			out = append(out, fmt.Sprintf("policy %s changed by a config reload", p.Name))
		}
		delete(was, p.Name)
	}
	for name := range was {
		out = append(out, fmt.Sprintf("policy %s removed by a config reload", name))
	}
	sort.Strings(out)
	return out
}

func stripLine(p config.Policy) config.Policy { p.Line = 0; return p }

// ReloadFailed reports a config that a reload refused: the daemon goes
// on with the config it has, and admins get an error alert.
func (d *Daemon) ReloadFailed(err error) {
	d.alert(joblog.Alert{Class: "error", Message: "config reload refused, the previous config stays in force: " + err.Error()})
}
