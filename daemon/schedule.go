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
	// Error, set only on an entry without Object, says why Store could
	// not be read: its objects are unknown.
	Error string `json:"error,omitempty"`
}

// Objects lists every object in the configured stores with its
// protection status; objects no policy covers have no RPO. The stores
// are read at once, each within the store timeout, so one that is down
// or slow neither hides nor delays the others: it is one entry naming
// the store, with its Error and no object.
func (d *Daemon) Objects(ctx context.Context) []ObjectStatus {
	now := time.Now()
	pols := d.Policies()
	vss, errs := eachStore(ctx, d, d.storeVersions)
	out := []ObjectStatus{}
	for _, store := range sortedKeys(d.config().Stores) {
		if err, ok := errs[store]; ok {
			out = append(out, ObjectStatus{Store: store, Error: err.Error()})
			continue
		}
		out = append(out, objectStatuses(store, vss[store], pols, now)...)
	}
	return out
}

// eachStore calls fn on every configured store at once, each bounded by
// the store timeout, and returns the results and errors by store. A
// store that is down can make a call hang far longer than its context
// allows (the engine opens a store under a lock, which a job's open
// may hold), so a call still running at the deadline is abandoned, its
// late result dropped, and the store's error says it did not answer.
func eachStore[T any](ctx context.Context, d *Daemon, fn func(context.Context, string) (T, error)) (map[string]T, map[string]error) {
	type result struct {
		store string
		val   T
		err   error
	}
	stores := sortedKeys(d.config().Stores)
	results := make(chan result, len(stores))
	for _, store := range stores {
		go func() {
			sctx, cancel := context.WithTimeout(ctx, d.storeTimeout)
			defer cancel()
			done := make(chan result, 1)
			go func() {
				v, err := fn(sctx, store)
				done <- result{store, v, err}
			}()
			select {
			case r := <-done:
				results <- r
			case <-sctx.Done():
				err := fmt.Errorf("store %s: no answer within %s", store, d.storeTimeout)
				if ctx.Err() != nil {
					err = fmt.Errorf("store %s: %w", store, ctx.Err())
				}
				results <- result{store: store, err: err}
			}
		}()
	}
	vals, errs := map[string]T{}, map[string]error{}
	for range stores {
		r := <-results
		if r.err != nil {
			errs[r.store] = r.err
		} else {
			vals[r.store] = r.val
		}
	}
	return vals, errs
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
// notes when it is met again. Objects of a store that cannot be read
// keep their last state (the store's own critical alert says why); the
// other stores' objects are checked all the same.
func (d *Daemon) checkRPO(ctx context.Context, now time.Time) {
	d.refreshStores(ctx)
	for _, o := range d.Objects(ctx) {
		if o.Error != "" {
			d.log.Warn("look at RPOs", "store", o.Store, "err", o.Error)
			continue
		}
		d.mu.Lock()
		was := d.rpoMissed[o.Object]
		d.rpoMissed[o.Object] = !o.RPOMet
		d.mu.Unlock()
		if !o.RPOMet && !was {
			d.alert(joblog.Alert{Class: "warning", Object: o.Object, Policy: o.Policy, Message: fmt.Sprintf("%s missed its RPO of %s: newest version %s (%s ago)", o.Object, time.Duration(o.RPOSeconds*float64(time.Second)), engine.TimeName(o.LastSuccess), now.Sub(o.LastSuccess).Round(time.Second))})
		}
	}
}

// startCheckRPO runs checkRPO in the background, so that a slow store
// never holds up the dispatch loop (queued jobs on other stores would
// wait for it); a look still running when the next is due is not
// doubled.
func (d *Daemon) startCheckRPO(ctx context.Context) {
	if !d.rpoBusy.CompareAndSwap(false, true) {
		return
	}
	d.bg.Add(1)
	go func() {
		defer d.bg.Done()
		defer d.rpoBusy.Store(false)
		d.checkRPO(ctx, time.Now())
	}()
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
// processes wrote, all stores at once, each within the store timeout; a
// store that cannot be read is a critical alert, once until it can be
// read again.
func (d *Daemon) refreshStores(ctx context.Context) {
	_, errs := eachStore(ctx, d, func(ctx context.Context, name string) (struct{}, error) {
		eng, err := d.engineFor(name)
		if err == nil {
			err = eng.Refresh(ctx)
		}
		return struct{}{}, err
	})
	for _, name := range sortedKeys(d.config().Stores) {
		err := errs[name]
		d.mu.Lock()
		was := d.storeDown[name]
		d.storeDown[name] = err != nil
		d.mu.Unlock()
		if err != nil && !was && ctx.Err() == nil {
			d.alert(joblog.Alert{Class: "critical", Message: fmt.Sprintf("store %s cannot be read: %v", name, err)})
		}
	}
}
