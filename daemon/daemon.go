package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
	"github.com/stratabackup/strata/daemon/webhook"
)

// rpoEvery is how many ticks pass between looks at the objects' RPOs.
const rpoEvery = 5

// The job log keeps this many finished jobs and alerts; older ones are
// dropped at each start.
const (
	keepJobs   = 5000
	keepAlerts = 5000
)

// Options tune a daemon beyond its config.
type Options struct {
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Tick is how often schedules and RPOs are looked at; default 1s.
	Tick time.Duration
	// StoreTimeout bounds one look at a store (listing its versions,
	// refreshing its catalog) for the API, the metrics and the RPO
	// checks; default 20s. A store that is down answers no sooner.
	StoreTimeout time.Duration
}

// Daemon is a running service over one config.
type Daemon struct {
	log  *slog.Logger
	jl   *joblog.Log
	tick time.Duration
	// storeTimeout bounds one look at one store (see eachStore).
	storeTimeout time.Duration
	hooks        *webhook.Sender
	met          *metrics
	// runCtx is every job's parent; it ends when Run returns.
	runCtx context.Context
	wake   chan struct{}
	// rpoBusy is set while a background checkRPO runs; bg counts the
	// background work Run waits for before it returns.
	rpoBusy atomic.Bool
	bg      sync.WaitGroup

	mu          sync.Mutex
	cfg         *config.Config
	apiPolicies map[string]config.Policy
	engines     map[string]*engine.Engine // by store name
	active      map[string]*activeJob     // queued and running jobs by id
	order       []string                  // queued job ids, oldest first
	rpoMissed   map[string]bool           // object -> missed at the last look
	storeDown   map[string]bool           // store -> unreadable at the last look
}

// activeJob is a queued or running job in memory.
type activeJob struct {
	job       joblog.Job
	cancel    context.CancelFunc
	cancelled bool // by request, not by the daemon stopping
	warnings  []string
}

// New opens the job log under cfg.StateDir and requeues the jobs a crash
// interrupted. Run starts the work.
func New(cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 20 * time.Second
	}
	jl, err := joblog.Open(filepath.Join(cfg.StateDir, "joblog"))
	if err != nil {
		return nil, err
	}
	d := &Daemon{
		log: opts.Logger, jl: jl, tick: opts.Tick, storeTimeout: opts.StoreTimeout, cfg: cfg, wake: make(chan struct{}, 1),
		engines: map[string]*engine.Engine{}, active: map[string]*activeJob{}, rpoMissed: map[string]bool{}, storeDown: map[string]bool{},
		runCtx: context.Background(),
	}
	d.hooks = webhook.New(cfg.Webhooks, opts.Logger)
	d.met = newMetrics(d)
	if err := d.loadAPIPolicies(); err != nil {
		jl.Close()
		return nil, err
	}
	if err := d.recover(); err != nil {
		jl.Close()
		return nil, err
	}
	return d, nil
}

// recover requeues the jobs the job log shows queued or running: the
// daemon that ran them stopped (crash, SIGKILL, shutdown) before they
// ended.
func (d *Daemon) recover() error {
	jobs, err := d.jl.Jobs()
	if err != nil {
		return err
	}
	n := 0
	for _, j := range jobs {
		if j.State.Final() {
			continue
		}
		j.State, j.Reason = joblog.Queued, "interrupted: run again"
		if err := d.jl.PutJob(j); err != nil {
			return err
		}
		d.active[j.ID] = &activeJob{job: j}
		d.order = append(d.order, j.ID)
		n++
	}
	if err := d.jl.Trim(keepJobs, keepAlerts); err != nil {
		return err
	}
	msg := "daemon started"
	if n > 0 {
		msg = fmt.Sprintf("daemon restarted: %d interrupted job(s) will run again", n)
	}
	d.alert(joblog.Alert{Class: "info", Message: msg})
	return nil
}

// loadAPIPolicies reads the policies made through the API.
func (d *Daemon) loadAPIPolicies() error {
	raw, err := d.jl.Policies()
	if err != nil {
		return err
	}
	d.apiPolicies = map[string]config.Policy{}
	for _, r := range raw {
		var p config.Policy
		if err := json.Unmarshal(r, &p); err != nil {
			return fmt.Errorf("job log: policy %s: %w", r, err)
		}
		d.apiPolicies[p.Name] = p
	}
	return nil
}

// Run schedules and runs jobs until ctx ends. Jobs running then are left
// as running in the job log, so the next start runs them again.
func (d *Daemon) Run(ctx context.Context) error {
	d.runCtx = ctx
	if m := d.config().Mount; m != nil {
		go d.mount(ctx, *m)
	}
	t := time.NewTicker(d.tick)
	defer t.Stop()
	d.schedule(time.Now())
	d.dispatch()
	ticks := 0
	for {
		select {
		case <-ctx.Done():
			d.drain()
			d.bg.Wait()
			return nil
		case <-t.C:
			d.schedule(time.Now())
			if ticks++; ticks%rpoEvery == 0 {
				d.startCheckRPO(ctx)
			}
		case <-d.wake:
		}
		d.dispatch()
	}
}

// drain waits (briefly) for jobs to notice the end of the run context.
func (d *Daemon) drain() {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if d.runningCount() == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *Daemon) runningCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, a := range d.active {
		if a.job.State == joblog.Running {
			n++
		}
	}
	return n
}

// Close stops the webhooks and closes the stores and the job log. Call
// it after Run returned.
func (d *Daemon) Close() error {
	d.hooks.Close()
	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, e := range d.engines {
		errs = append(errs, e.Close())
	}
	errs = append(errs, d.jl.Close())
	return errors.Join(errs...)
}

// config returns the current config.
func (d *Daemon) config() *config.Config {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cfg
}

// Config returns the current config (read-only).
func (d *Daemon) Config() *config.Config { return d.config() }

// engineFor returns the engine of a configured store, opening it once.
func (d *Daemon) engineFor(store string) (*engine.Engine, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.cfg.Stores[store]
	if !ok {
		return nil, fmt.Errorf("store %q is not configured", store)
	}
	if e, ok := d.engines[store]; ok {
		return e, nil
	}
	cache := s.CacheDir
	if cache == "" {
		cache = filepath.Join(d.cfg.StateDir, "cache", store)
	}
	e, err := engine.New(engine.Options{Store: s.Location, CacheDir: cache, Logger: d.log})
	if err != nil {
		return nil, err
	}
	d.engines[store] = e
	return e, nil
}

// mount keeps the store mounted until ctx ends.
func (d *Daemon) mount(ctx context.Context, m config.Mount) {
	e, err := d.engineFor(m.Store)
	if err == nil {
		err = e.Mount(ctx, engine.MountRequest{Mountpoint: m.Path, RefreshFailed: func(err error) {
			d.log.Warn("mount refresh failed", "err", err)
		}})
	}
	if err != nil {
		d.alert(joblog.Alert{Class: "error", Message: fmt.Sprintf("mount %s of store %s: %v", m.Path, m.Store, err)})
	}
}
