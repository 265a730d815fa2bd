package daemon

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/joblog"
)

// JobRequest is what a caller asks for; Submit fills in the rest.
type JobRequest struct {
	Kind string `json:"kind"`
	// Policy runs a backup or forget for that policy's cluster, objects
	// and store.
	Policy string `json:"policy,omitempty"`
	// Cluster, Objects and Store name a backup's objects without a policy.
	Cluster string   `json:"cluster,omitempty"`
	Objects []string `json:"objects,omitempty"`
	Store   string   `json:"store,omitempty"`
	// Version, Target, ToCluster and Path describe a restore.
	Version   string `json:"version,omitempty"`
	Target    string `json:"target,omitempty"`
	ToCluster string `json:"to_cluster,omitempty"`
	Path      string `json:"path,omitempty"`
}

// Submit checks a request, records the job as queued and wakes the
// dispatcher. Errors are *config.FieldError for a bad field.
func (d *Daemon) Submit(req JobRequest, reason string) (joblog.Job, error) {
	j, err := d.jobFor(req)
	if err != nil {
		return joblog.Job{}, err
	}
	id, err := d.jl.NextID("j")
	if err != nil {
		return joblog.Job{}, err
	}
	j.ID, j.Reason, j.State, j.Created = id, reason, joblog.Queued, time.Now().UTC()
	j.Versions = []joblog.VersionRef{}
	j.Progress.ETASeconds = -1
	if err := d.jl.PutJob(j); err != nil {
		return joblog.Job{}, err
	}
	d.mu.Lock()
	d.active[j.ID] = &activeJob{job: j}
	d.order = append(d.order, j.ID)
	d.mu.Unlock()
	d.poke()
	return j, nil
}

// poke wakes the dispatcher without blocking.
func (d *Daemon) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func fieldErr(field, format string, args ...any) error {
	return &config.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// jobFor validates a request against the config.
func (d *Daemon) jobFor(req JobRequest) (joblog.Job, error) {
	cfg := d.config()
	j := joblog.Job{Kind: req.Kind, Store: req.Store}
	if j.Store == "" && len(cfg.Stores) == 1 {
		for name := range cfg.Stores {
			j.Store = name
		}
	}
	req.Store = j.Store
	switch req.Kind {
	case joblog.KindBackup, joblog.KindForget:
		return d.policyJob(cfg, req, j)
	case joblog.KindRestore:
		return restoreJob(cfg, req, j)
	case joblog.KindCheck:
		if _, ok := cfg.Stores[req.Store]; !ok {
			return j, fieldErr("store", "%q: no such store", req.Store)
		}
		return j, nil
	}
	return j, fieldErr("kind", "%q: want backup, restore, forget or check", req.Kind)
}

// policyJob fills a backup or forget from its policy, or (backup only)
// from a cluster, objects and store.
func (d *Daemon) policyJob(cfg *config.Config, req JobRequest, j joblog.Job) (joblog.Job, error) {
	if req.Policy != "" {
		p, err := d.Policy(req.Policy)
		if err != nil {
			return j, fieldErr("policy", "%q: no such policy", req.Policy)
		}
		if req.Kind == joblog.KindForget && p.Retention.Empty() {
			return j, fieldErr("policy", "%q has no retention", req.Policy)
		}
		j.Policy, j.Cluster, j.Objects, j.Store = p.Name, p.Cluster, p.Objects, p.Store
		return j, nil
	}
	if req.Kind == joblog.KindForget {
		return j, fieldErr("policy", "required: forget applies a policy's retention")
	}
	if _, ok := cfg.Clusters[req.Cluster]; !ok {
		return j, fieldErr("cluster", "%q: no such cluster (or give a policy)", req.Cluster)
	}
	if _, ok := cfg.Stores[req.Store]; !ok {
		return j, fieldErr("store", "%q: no such store", req.Store)
	}
	for i, o := range req.Objects {
		if db, table, _ := strings.Cut(o, "/"); db == "" || badPattern(db) || badPattern(table) {
			return j, fieldErr(fmt.Sprintf("objects[%d]", i), "%q: want DB or DB/TABLE shell patterns", o)
		}
	}
	j.Cluster, j.Objects = req.Cluster, req.Objects
	return j, nil
}

func badPattern(p string) bool {
	_, err := path.Match(p, "")
	return err != nil
}

// restoreJob checks a restore: a version spec and a directory, or a
// configured cluster whose kind can load.
func restoreJob(cfg *config.Config, req JobRequest, j joblog.Job) (joblog.Job, error) {
	parts := strings.Split(req.Version, "/")
	if len(parts) < 4 || parts[0] == "" || parts[1] == "" {
		return j, fieldErr("version", "%q: want CLUSTER/DB/TABLE/<time|latest|T1..T2>", req.Version)
	}
	if _, ok := cfg.Stores[req.Store]; !ok {
		return j, fieldErr("store", "%q: no such store", req.Store)
	}
	isDiff := strings.Contains(parts[len(parts)-1], "..")
	switch {
	case (req.Target == "") == (req.ToCluster == ""):
		return j, fieldErr("target", "give a target directory or a to_cluster to load into, not both")
	case req.Target != "" && isDiff:
		return j, fieldErr("version", "a @diff range loads into a database (to_cluster), not a directory")
	case req.Target != "" && !path.IsAbs(req.Target):
		return j, fieldErr("target", "%q: want an absolute path", req.Target)
	case req.ToCluster != "":
		if _, _, err := loadTarget(cfg, req.ToCluster); err != nil {
			return j, fieldErr("to_cluster", "%v", err)
		}
	}
	j.Cluster, j.Version, j.Target, j.ToCluster, j.Path = parts[0], req.Version, req.Target, req.ToCluster, req.Path
	j.Objects = []string{parts[1] + "/" + strings.Join(parts[2:len(parts)-1], "/")}
	return j, nil
}

// Cancel stops a queued or running job. A running backup stops at once
// and leaves no version of the object it was on; one that had already
// committed its last version ends as succeeded (finish).
func (d *Daemon) Cancel(id string) (joblog.Job, error) {
	d.mu.Lock()
	a, ok := d.active[id]
	if !ok {
		d.mu.Unlock()
		j, err := d.jl.Job(id)
		if err != nil {
			return j, err
		}
		return j, fmt.Errorf("job %s is already %s: %w", id, j.State, ErrConflict)
	}
	a.cancelled = true
	if a.job.State == joblog.Queued {
		d.removeQueued(id)
		delete(d.active, id)
		a.job.State, a.job.Ended = joblog.Cancelled, time.Now().UTC()
		d.mu.Unlock()
		return a.job, d.jl.PutJob(a.job)
	}
	a.cancel()
	j := a.job
	d.mu.Unlock()
	return j, nil
}

func (d *Daemon) removeQueued(id string) {
	for i, q := range d.order {
		if q == id {
			d.order = append(d.order[:i], d.order[i+1:]...)
			return
		}
	}
}

// Job returns a job, with live progress when it runs.
func (d *Daemon) Job(id string) (joblog.Job, error) {
	d.mu.Lock()
	if a, ok := d.active[id]; ok {
		j := a.job
		d.mu.Unlock()
		return j, nil
	}
	d.mu.Unlock()
	return d.jl.Job(id)
}

// Jobs lists jobs, newest first, with live progress for active ones.
func (d *Daemon) Jobs() ([]joblog.Job, error) {
	jobs, err := d.jl.Jobs()
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]joblog.Job, 0, len(jobs))
	for i := len(jobs) - 1; i >= 0; i-- {
		if a, ok := d.active[jobs[i].ID]; ok {
			jobs[i] = a.job
		}
		out = append(out, jobs[i])
	}
	return out, nil
}

// dispatch starts every queued job whose store and cluster have a free
// slot and whose objects no running job touches, oldest first.
func (d *Daemon) dispatch() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.runCtx.Err() != nil {
		return
	}
	for _, id := range append([]string(nil), d.order...) {
		a := d.active[id]
		if !d.canStartLocked(a.job) {
			continue
		}
		d.removeQueued(id)
		ctx, cancel := context.WithCancel(d.runCtx)
		a.cancel = cancel
		a.job.State, a.job.Started, a.job.Ended, a.job.Error = joblog.Running, time.Now().UTC(), time.Time{}, ""
		a.job.Attempts++
		if err := d.jl.PutJob(a.job); err != nil {
			d.log.Error("job log", "err", err)
		}
		go d.run(ctx, a)
	}
}

// canStartLocked applies the per-store and per-cluster limits and the
// one-job-per-object rule.
func (d *Daemon) canStartLocked(j joblog.Job) bool {
	perStore, perCluster := 0, 0
	for _, a := range d.active {
		r := a.job
		if r.State != joblog.Running {
			continue
		}
		if r.Store == j.Store {
			perStore++
		}
		if c := sourceCluster(j); c != "" && sourceCluster(r) == c {
			perCluster++
		}
		if j.Kind != joblog.KindCheck && r.Kind != joblog.KindCheck && r.Cluster == j.Cluster && mayOverlap(r.Objects, j.Objects) {
			return false
		}
	}
	maxStore := 2
	if s, ok := d.cfg.Stores[j.Store]; ok {
		maxStore = s.MaxJobs
	}
	maxCluster := 1
	if c, ok := d.cfg.Clusters[sourceCluster(j)]; ok {
		maxCluster = c.MaxJobs
	}
	return perStore < maxStore && (sourceCluster(j) == "" || perCluster < maxCluster)
}

// sourceCluster is the cluster a job reads or writes: a backup's source,
// a load's target; "" for jobs that touch only the store.
func sourceCluster(j joblog.Job) string {
	switch {
	case j.Kind == joblog.KindBackup:
		return j.Cluster
	case j.Kind == joblog.KindRestore:
		return j.ToCluster
	}
	return ""
}

// mayOverlap reports whether two sets of DB[/TABLE] patterns (none: all
// objects) could name a common object. It errs towards yes.
func mayOverlap(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return true
	}
	for _, x := range a {
		for _, y := range b {
			xd, xt, xHas := strings.Cut(x, "/")
			yd, yt, yHas := strings.Cut(y, "/")
			if partsOverlap(xd, yd) && (!xHas || !yHas || partsOverlap(xt, yt)) {
				return true
			}
		}
	}
	return false
}

func partsOverlap(x, y string) bool {
	const meta = `*?[\`
	xm, ym := strings.ContainsAny(x, meta), strings.ContainsAny(y, meta)
	switch {
	case x == y || (xm && ym):
		return true
	case xm:
		ok, _ := path.Match(x, y)
		return ok
	case ym:
		ok, _ := path.Match(y, x)
		return ok
	}
	return false
}
