package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
	"github.com/stratabackup/strata/sources"
)

// outcome is what a job's work returned.
type outcome struct {
	err    error
	result any
	// damaged marks a check that found damage (a critical alert).
	damaged bool
}

// run does a job's work through the engine and records how it ended.
func (d *Daemon) run(ctx context.Context, a *activeJob) {
	defer a.cancel()
	j := a.job
	var out outcome
	eng, err := d.engineFor(j.Store)
	if err != nil {
		out.err = err
	} else {
		switch j.Kind {
		case joblog.KindBackup:
			out = d.runBackup(ctx, eng, a)
		case joblog.KindRestore:
			out = d.runRestore(ctx, eng, a)
		case joblog.KindForget:
			out = d.runForget(ctx, eng, a)
		case joblog.KindCheck:
			out = d.runCheck(ctx, eng, a)
		}
	}
	d.finish(ctx, a, out)
}

// finish records a job's end. A job stopped by the daemon's own shutdown
// stays running in the log, so the next start runs it again. A cancel
// that came after the work was done (a backup's version committed) does
// not make it "cancelled": the job says what it left behind.
func (d *Daemon) finish(ctx context.Context, a *activeJob, out outcome) {
	d.mu.Lock()
	shutdown := d.runCtx.Err() != nil && !a.cancelled
	j := &a.job
	j.Ended = time.Now().UTC()
	switch {
	case shutdown:
		delete(d.active, j.ID)
		d.mu.Unlock()
		d.log.Info("job interrupted by shutdown; it runs again at the next start", "job", j.ID)
		return
	case a.cancelled && ctx.Err() != nil && out.err != nil:
		j.State, j.Error = joblog.Cancelled, "cancelled"
	case out.err != nil:
		j.State, j.Error = joblog.Failed, out.err.Error()
	default:
		j.State = joblog.Succeeded
	}
	if out.result != nil {
		j.Result, _ = json.Marshal(out.result)
	}
	delete(d.active, j.ID)
	final := *j
	warnings := a.warnings
	d.mu.Unlock()
	if err := d.jl.PutJob(final); err != nil {
		d.log.Error("job log", "job", final.ID, "err", err)
	}
	d.met.jobEnded(final)
	d.jobAlerts(final, out, warnings)
	if final.Kind == joblog.KindBackup && final.State == joblog.Succeeded && final.Policy != "" {
		d.retain(final.Policy)
	}
	d.poke()
}

// jobAlerts raises the alerts a finished job calls for.
func (d *Daemon) jobAlerts(j joblog.Job, out outcome, warnings []string) {
	switch {
	case out.damaged:
		d.alert(joblog.Alert{Class: "critical", Job: j.ID, Message: fmt.Sprintf("check of store %s found damaged data: %s", j.Store, j.Error)})
	case errors.Is(out.err, engine.ErrNoStore):
		d.alert(joblog.Alert{Class: "critical", Job: j.ID, Policy: j.Policy, Message: fmt.Sprintf("store %s cannot be used: %s", j.Store, j.Error)})
	case j.State == joblog.Failed:
		d.alert(joblog.Alert{Class: "error", Job: j.ID, Policy: j.Policy, Message: fmt.Sprintf("%s job failed: %s", j.Kind, j.Error)})
	}
	for _, w := range warnings {
		d.alert(joblog.Alert{Class: "warning", Job: j.ID, Policy: j.Policy, Message: w})
	}
}

// retain queues a forget+prune after a policy's successful backup, when
// the policy keeps only some versions.
func (d *Daemon) retain(policy string) {
	p, err := d.Policy(policy)
	if err != nil || p.Retention.Empty() {
		return
	}
	if _, err := d.Submit(JobRequest{Kind: joblog.KindForget, Policy: policy}, "retention"); err != nil {
		d.log.Warn("queue retention", "policy", policy, "err", err)
	}
}

// update changes a running job's progress under the lock.
func (d *Daemon) update(a *activeJob, fn func(j *joblog.Job)) {
	d.mu.Lock()
	fn(&a.job)
	d.mu.Unlock()
}

// runBackup backs up the job's objects in one engine run.
func (d *Daemon) runBackup(ctx context.Context, eng *engine.Engine, a *activeJob) outcome {
	cl, ok := d.config().Clusters[a.job.Cluster]
	if !ok {
		return outcome{err: fmt.Errorf("cluster %q is no longer configured", a.job.Cluster)}
	}
	cfg, err := cl.SourceConfig()
	if err != nil {
		return outcome{err: err}
	}
	if len(a.job.Objects) > 0 {
		cfg.Set(sources.OptOnly, a.job.Objects...)
	}
	pt := &progressTracker{start: time.Now()}
	res, err := eng.Backup(ctx, engine.BackupRequest{Kind: cl.Kind, Config: cfg}, func(ev engine.Event) {
		d.update(a, func(j *joblog.Job) { pt.event(j, ev, &a.warnings) })
	})
	if err != nil {
		return outcome{err: err}
	}
	var failed []string
	for _, r := range res.Objects {
		if r.Error != "" {
			failed = append(failed, r.Object+": "+r.Error)
		}
		if r.Version != nil {
			d.met.versionMade(*r.Version)
		}
	}
	if len(failed) > 0 {
		return outcome{err: fmt.Errorf("%d of %d objects failed: %s", len(failed), len(res.Objects), strings.Join(failed, "; ")), result: res.Objects}
	}
	return outcome{result: res.Objects}
}

// progressTracker turns engine events into a job's progress: bytes of
// finished objects plus the current one, rate since the start, ETA from
// the previous versions' sizes.
type progressTracker struct {
	start             time.Time
	doneBytes, doneRd int64
	doneNew, doneExp  int64
	doneItems         int64
}

func (pt *progressTracker) event(j *joblog.Job, ev engine.Event, warnings *[]string) {
	p := &j.Progress
	switch {
	case ev.Progress != nil:
		g := ev.Progress
		p.Object = ev.Object
		p.Bytes, p.ReadBytes, p.NewBytes = pt.doneBytes+g.DoneBytes, pt.doneRd+g.ReadBytes, pt.doneNew+g.NewBytes
		p.Items = pt.doneItems + g.Files
		p.TotalBytes = pt.doneExp + max(g.ExpectBytes, g.DoneBytes)
	case ev.Done != nil && ev.Done.Version != nil:
		v := ev.Done.Version
		pt.doneBytes += v.Stats.Bytes
		pt.doneRd += v.Stats.ReadBytes
		pt.doneNew += v.Stats.NewBytes
		pt.doneExp += v.Stats.Bytes
		pt.doneItems += v.Stats.Files
		p.Bytes, p.ReadBytes, p.NewBytes, p.Items, p.TotalBytes = pt.doneBytes, pt.doneRd, pt.doneNew, pt.doneItems, pt.doneExp
		p.ObjectsDone++
		j.Versions = append(j.Versions, joblog.VersionRef{Object: ev.Done.Object, Time: v.Time})
		for _, w := range v.Warnings {
			*warnings = append(*warnings, fmt.Sprintf("version %s/%s is partial or fuzzy: %s", ev.Done.Object, engine.TimeName(v.Time), w))
		}
	case ev.Done != nil:
		p.ObjectsDone++
	case ev.Source != nil && ev.Source.Warning:
		*warnings = append(*warnings, fmt.Sprintf("%s: %s", ev.Object, ev.Source.Step))
	}
	setRate(p, time.Since(pt.start))
}

// setRate derives rate and ETA from bytes done, total and time spent.
func setRate(p *joblog.Progress, elapsed time.Duration) {
	p.ETASeconds = -1
	if elapsed <= 0 {
		return
	}
	p.Rate = float64(p.Bytes) / elapsed.Seconds()
	if p.Rate > 0 && p.TotalBytes > p.Bytes {
		p.ETASeconds = float64(p.TotalBytes-p.Bytes) / p.Rate
	} else if p.TotalBytes > 0 && p.TotalBytes <= p.Bytes {
		p.ETASeconds = 0
	}
}

// runRestore restores a version into a directory, or loads a version or
// @diff into a configured cluster through its kind's Loader.
func (d *Daemon) runRestore(ctx context.Context, eng *engine.Engine, a *activeJob) outcome {
	j := a.job
	start := time.Now()
	if j.ToCluster != "" {
		kind, target, err := loadTarget(d.config(), j.ToCluster)
		if err != nil {
			return outcome{err: err}
		}
		res, err := eng.Load(ctx, engine.LoadRequest{Kind: kind, Target: target, Spec: j.Version, Options: sources.LoadOptions{Extra: sources.NewConfig()}})
		d.update(a, func(j *joblog.Job) {
			j.Versions = append(j.Versions, joblog.VersionRef{Object: res.Version.Object.String(), Time: res.Version.Time})
		})
		return outcome{err: err, result: map[string]any{"summary": res.Summary, "database": res.Database, "stats": res.Stats}}
	}
	// A restore run again after a crash finishes the job: files the
	// first attempt completed are equal and skipped, its temporaries are
	// removed, and no file under its final name was ever partial.
	res, err := eng.Restore(ctx, engine.RestoreRequest{Version: j.Version, Target: j.Target, Path: j.Path, Verify: true}, func(p engine.RestoreProgress) {
		d.update(a, func(j *joblog.Job) {
			j.Progress.Bytes, j.Progress.TotalBytes, j.Progress.Items = p.Bytes, p.TotalBytes, p.Files
			setRate(&j.Progress, time.Since(start))
		})
	})
	if res.Version.Name != "" {
		d.update(a, func(j *joblog.Job) {
			j.Versions = append(j.Versions, joblog.VersionRef{Object: res.Version.Object.String(), Time: res.Version.Time})
		})
	}
	return outcome{err: err, result: map[string]any{"restored": res.Restored, "skipped": res.Skipped, "failed": res.Failed, "bytes": res.Bytes}}
}

// loadTarget returns the kind and address of a cluster a restore loads
// into: its kind must have a Loader, and the address is the kind's first
// secret option (a connection string), else its first required one.
func loadTarget(cfg *config.Config, cluster string) (kind, target string, err error) {
	cl, ok := cfg.Clusters[cluster]
	if !ok {
		return "", "", fmt.Errorf("%q: no such cluster", cluster)
	}
	k, err := sources.LookupKind(cl.Kind)
	if err != nil || k.Loader == nil {
		return "", "", fmt.Errorf("cluster %s: kind %s cannot load into a database", cluster, cl.Kind)
	}
	src, err := cl.SourceConfig()
	if err != nil {
		return "", "", err
	}
	for _, want := range []func(sources.Option) bool{func(o sources.Option) bool { return o.Secret }, func(o sources.Option) bool { return o.Required }} {
		for _, o := range k.Options {
			if want(o) && src.Get(o.Name) != "" {
				return cl.Kind, src.Get(o.Name), nil
			}
		}
	}
	return "", "", fmt.Errorf("cluster %s: no address to load into", cluster)
}

// runForget applies the policy's retention to its objects, then prunes.
func (d *Daemon) runForget(ctx context.Context, eng *engine.Engine, a *activeJob) outcome {
	p, err := d.Policy(a.job.Policy)
	if err != nil {
		return outcome{err: err}
	}
	objs, err := d.policyObjects(ctx, eng, p.Policy)
	if err != nil || len(objs) == 0 {
		return outcome{err: err}
	}
	ds, err := eng.Forget(ctx, p.Retention, objs, false)
	if err != nil {
		return outcome{err: err}
	}
	removed := 0
	for _, dec := range ds {
		if !dec.Keep {
			removed++
		}
	}
	pr, err := eng.Prune(ctx, false, nil)
	return outcome{err: err, result: map[string]any{"versions_removed": removed, "prune": pr}}
}

// runCheck verifies the store; damage fails the job with a critical
// alert.
func (d *Daemon) runCheck(ctx context.Context, eng *engine.Engine, a *activeJob) outcome {
	res, err := eng.Check(ctx, func(p engine.CheckProgress) {
		d.update(a, func(j *joblog.Job) {
			j.Progress.Items, j.Progress.TotalBytes = p.Packs, p.TotalPacks
		})
	})
	if err != nil {
		return outcome{err: err}
	}
	if len(res.Damage) > 0 {
		return outcome{err: fmt.Errorf("%d damaged item(s), first: %+v", len(res.Damage), res.Damage[0]), result: res, damaged: true}
	}
	return outcome{result: res}
}
