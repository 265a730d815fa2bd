package daemon

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
)

// schedule queues a backup for every policy that is due: never run, or
// its interval (cron) says so since its last run. A daemon that was down
// for several intervals runs once, not once per missed interval.
func (d *Daemon) schedule(now time.Time) {
	for _, p := range d.Policies() {
		if d.hasActive(p.Name, joblog.KindBackup) {
			continue
		}
		last, err := d.jl.LastRun(p.Name)
		if err != nil {
			d.log.Error("job log", "err", err)
			continue
		}
		if now.Before(p.Next(last)) {
			continue
		}
		if err := d.jl.SetLastRun(p.Name, now); err != nil {
			d.log.Error("job log", "err", err)
			continue
		}
		if _, err := d.Submit(JobRequest{Kind: joblog.KindBackup, Policy: p.Name}, "schedule"); err != nil {
			d.alert(joblog.Alert{Class: "error", Policy: p.Name, Message: fmt.Sprintf("policy %s: cannot queue its backup: %v", p.Name, err)})
		}
	}
}

// hasActive reports a queued or running job of kind for the policy.
func (d *Daemon) hasActive(policy, kind string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, a := range d.active {
		if a.job.Policy == policy && a.job.Kind == kind {
			return true
		}
	}
	return false
}

// ObjectStatus is an object's protection: its policy, newest version,
// whether that is recent enough, how many versions there are.
type ObjectStatus struct {
	Object      string    `json:"object"`
	Cluster     string    `json:"cluster"`
	Store       string    `json:"store"`
	Policy      string    `json:"policy,omitempty"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	RPOSeconds  float64   `json:"rpo_seconds"`
	// RPOMet is false when the newest version is older than the RPO plus
	// the policy's grace.
	RPOMet   bool `json:"rpo_met"`
	Versions int  `json:"versions"`
	// Bytes and LogicalBytes are the newest version's sizes.
	Bytes        int64 `json:"bytes"`
	LogicalBytes int64 `json:"logical_bytes"`
}

// Objects lists every object in the configured stores with its
// protection status; objects no policy covers have no RPO.
func (d *Daemon) Objects(ctx context.Context) ([]ObjectStatus, error) {
	now := time.Now()
	cfg := d.config()
	pols := d.Policies()
	var out []ObjectStatus
	for _, store := range sortedKeys(cfg.Stores) {
		vs, err := d.storeVersions(ctx, store)
		if err != nil {
			return nil, err
		}
		out = append(out, objectStatuses(store, vs, pols, now)...)
	}
	return out, nil
}

// storeVersions lists a store's versions.
func (d *Daemon) storeVersions(ctx context.Context, store string) ([]engine.Version, error) {
	eng, err := d.engineFor(store)
	if err != nil {
		return nil, err
	}
	vs, err := eng.Versions(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", store, err)
	}
	return vs, nil
}

func objectStatuses(store string, vs []engine.Version, pols []PolicyInfo, now time.Time) []ObjectStatus {
	byObj := map[string]*ObjectStatus{}
	var names []string
	for _, v := range vs {
		name := v.Object.String()
		s, ok := byObj[name]
		if !ok {
			s = &ObjectStatus{Object: name, Cluster: v.Object.Cluster, Store: store}
			byObj[name] = s
			names = append(names, name)
		}
		s.Versions++
		if v.Time.After(s.LastSuccess) {
			s.LastSuccess, s.Bytes, s.LogicalBytes = v.Time, v.Stats.Bytes, v.Stats.LogicalBytes
		}
	}
	sort.Strings(names)
	out := make([]ObjectStatus, 0, len(names))
	for _, name := range names {
		s := byObj[name]
		s.RPOMet = true
		for _, p := range pols {
			if p.Store == store && covers(p.Policy, name) {
				rpo := p.RPO(now)
				s.Policy, s.RPOSeconds = p.Name, rpo.Seconds()
				s.RPOMet = now.Sub(s.LastSuccess) <= rpo+p.GraceOrDefault(now)
				break
			}
		}
		out = append(out, *s)
	}
	return out
}

// covers reports whether a policy's cluster and patterns name object
// (CLUSTER/DB/TABLE), as the engine's --only matches.
func covers(p config.Policy, object string) bool {
	cluster, rest, _ := strings.Cut(object, "/")
	if cluster != p.Cluster {
		return false
	}
	if len(p.Objects) == 0 {
		return true
	}
	db, table, _ := strings.Cut(rest, "/")
	for _, pat := range p.Objects {
		pdb, ptable, hasTable := strings.Cut(pat, "/")
		okDB, _ := path.Match(pdb, db)
		okTable := true
		if hasTable {
			okTable, _ = path.Match(ptable, table)
		}
		if okDB && okTable {
			return true
		}
	}
	return false
}

// policyObjects names the stored objects a policy covers.
func (d *Daemon) policyObjects(ctx context.Context, eng *engine.Engine, p config.Policy) ([]string, error) {
	vs, err := eng.Versions(ctx, p.Cluster)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		name := v.Object.String()
		if !seen[name] && covers(p, name) {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}

// checkRPO raises a warning when an object's RPO becomes missed, and
// notes when it is met again.
func (d *Daemon) checkRPO(ctx context.Context, now time.Time) {
	d.refreshStores(ctx)
	objs, err := d.Objects(ctx)
	if err != nil {
		d.log.Warn("look at RPOs", "err", err)
		return
	}
	for _, o := range objs {
		d.mu.Lock()
		was := d.rpoMissed[o.Object]
		d.rpoMissed[o.Object] = !o.RPOMet
		d.mu.Unlock()
		if !o.RPOMet && !was {
			d.alert(joblog.Alert{Class: "warning", Object: o.Object, Policy: o.Policy, Message: fmt.Sprintf("%s missed its RPO of %s: newest version %s (%s ago)", o.Object, time.Duration(o.RPOSeconds*float64(time.Second)), engine.TimeName(o.LastSuccess), now.Sub(o.LastSuccess).Round(time.Second))})
		}
	}
}

func sortedKeys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// refreshStores brings each store's view up to date with what other
// processes wrote; a store that cannot be read is a critical alert, once
// until it can be read again.
func (d *Daemon) refreshStores(ctx context.Context) {
	for _, name := range sortedKeys(d.config().Stores) {
		eng, err := d.engineFor(name)
		if err == nil {
			err = eng.Refresh(ctx)
		}
		d.mu.Lock()
		was := d.storeDown[name]
		d.storeDown[name] = err != nil
		d.mu.Unlock()
		if err != nil && !was && ctx.Err() == nil {
			d.alert(joblog.Alert{Class: "critical", Message: fmt.Sprintf("store %s cannot be read: %v", name, err)})
		}
	}
}
