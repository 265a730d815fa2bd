package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
	"github.com/stratabackup/strata/sources"
)

// testKind is a source registered by these tests: objects d/t1 and d/t2,
// plus d/slow when "slow" is set, which blocks until its context ends
// (and says so on started), and a failure on every backup when "fail"
// is set.
const testKind = "daemontest"

var started = make(chan string, 100)

func init() {
	sources.Register(sources.Kind{
		Name:    testKind,
		Options: []sources.Option{{Name: "slow"}, {Name: "fail"}, {Name: "content"}},
		New: func(cfg sources.Config) (sources.Source, error) {
			return &testSource{cluster: cfg.Cluster(), slow: cfg.Get("slow") != "", fail: cfg.Get("fail") != "", content: cfg.Get("content")}, nil
		},
	})
}

type testSource struct {
	cluster, content string
	slow, fail       bool
}

func (s *testSource) Kind() string { return testKind }
func (s *testSource) Close() error { return nil }

func (s *testSource) Discover(context.Context) ([]sources.Object, error) {
	if s.fail {
		return nil, errors.New("source unreachable: connection refused")
	}
	objs := []sources.Object{{Cluster: s.cluster, Database: "d", Table: "t1"}, {Cluster: s.cluster, Database: "d", Table: "t2"}}
	if s.slow {
		objs = append(objs, sources.Object{Cluster: s.cluster, Database: "d", Table: "slow"})
	}
	return objs, nil
}

func (s *testSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	data := []byte(s.content + obj.Table + time.Now().String())
	if err := w.Add(ctx, sources.Entry{Path: "data", Type: sources.TypeFile, Mode: 0o644, Size: int64(len(data))}, strings.NewReader(string(data))); err != nil {
		return sources.Result{}, err
	}
	if obj.Table == "slow" {
		started <- obj.String()
		<-ctx.Done()
		return sources.Result{}, ctx.Err()
	}
	return sources.Result{}, nil
}

// fixture is a daemon on a fresh store with one test cluster.
type fixture struct {
	t      *testing.T
	dir    string
	cfg    *config.Config
	d      *Daemon
	cancel context.CancelFunc
	done   chan struct{}
}

func testConfig(t *testing.T, dir, clusterOpts, policies string) *config.Config {
	t.Helper()
	y := fmt.Sprintf("state_dir: %s\nstores:\n  main: {location: %s, max_jobs: 4}\nclusters:\n  c: {kind: %s, max_jobs: 2, options: {%s}}\npolicies:\n%s", filepath.Join(dir, "state"), filepath.Join(dir, "store"), testKind, clusterOpts, policies)
	cfg, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// initStore makes a new store at location, its catalog in cache.
func initStore(t *testing.T, location, cache string) {
	t.Helper()
	e, err := engine.New(engine.Options{Store: location, CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.Close()
}

func newFixture(t *testing.T, cfg *config.Config) *fixture {
	t.Helper()
	dir := filepath.Dir(cfg.StateDir)
	if _, err := os.Stat(filepath.Join(dir, "store")); err != nil {
		initStore(t, filepath.Join(dir, "store"), filepath.Join(dir, "initcache"))
	}
	f := &fixture{t: t, dir: dir, cfg: cfg}
	f.start()
	t.Cleanup(f.stop)
	return f
}

func (f *fixture) start() {
	d, err := New(f.cfg, Options{Tick: 100 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.d, f.cancel, f.done = d, cancel, make(chan struct{})
	go func() { d.Run(ctx); close(f.done) }()
}

func (f *fixture) stop() {
	if f.d == nil {
		return
	}
	f.cancel()
	<-f.done
	f.d.Close()
	f.d = nil
}

// waitJob waits until the job reaches a final state.
func (f *fixture) waitJob(id string) joblog.Job {
	f.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		j, err := f.d.Job(id)
		if err == nil && j.State.Final() {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.t.Fatalf("job %s did not finish", id)
	return joblog.Job{}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func (f *fixture) versions(prefix string) []engine.Version {
	f.t.Helper()
	vs, err := f.d.Versions(context.Background(), "main", prefix, time.Time{}, time.Time{})
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

// TestScheduleMakesVersions runs a 1s policy: versions appear on
// schedule, each run a job that succeeded with the versions it made.
func TestScheduleMakesVersions(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "content: x", "  - {name: p, cluster: c, objects: [d/t1], interval: 1s}\n"))
	succeeded := func() int {
		jobs, _ := f.d.Jobs()
		ok := 0
		for _, j := range jobs {
			if j.State == joblog.Succeeded && j.Reason == "schedule" && len(j.Versions) == 1 && j.Versions[0].Object == "c/d/t1" {
				ok++
			}
		}
		return ok
	}
	waitFor(t, "three scheduled backups", func() bool { return succeeded() >= 3 })
	if n := len(f.versions("c/d/t2")); n != 0 {
		t.Fatalf("t2 is not in the policy's objects but has %d versions", n)
	}
	if n := len(f.versions("c/d/t1")); n < 3 {
		t.Fatalf("3 succeeded jobs but %d versions", n)
	}
	objs := f.d.Objects(context.Background())
	if len(objs) != 1 || !objs[0].RPOMet || objs[0].Policy != "p" || objs[0].Versions < 3 || objs[0].Error != "" {
		t.Fatalf("objects %+v", objs)
	}
}

// TestCancelLeavesNoVersion cancels a backup on its slow object: that
// object gets no version, the job is cancelled, and the next run
// succeeds.
func TestCancelLeavesNoVersion(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "slow: y", "  - {name: p, cluster: c, objects: [d/slow], interval: 1h}\n"))
	<-started
	jobs, _ := f.d.Jobs()
	if len(jobs) != 1 || jobs[0].State != joblog.Running {
		t.Fatalf("want one running job, got %+v", jobs)
	}
	if _, err := f.d.Cancel(jobs[0].ID); err != nil {
		t.Fatal(err)
	}
	j := f.waitJob(jobs[0].ID)
	if j.State != joblog.Cancelled || len(f.versions("c/d/slow")) != 0 {
		t.Fatalf("cancelled job %+v left versions %v", j, f.versions("c/d/slow"))
	}
	if _, err := f.d.Cancel(jobs[0].ID); !errors.Is(err, ErrConflict) {
		t.Fatalf("cancelling a finished job: %v", err)
	}
	j2, err := f.d.Submit(JobRequest{Kind: joblog.KindBackup, Cluster: "c", Objects: []string{"d/t1"}}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if j := f.waitJob(j2.ID); j.State != joblog.Succeeded || len(f.versions("c/d/t1")) != 1 {
		t.Fatalf("backup after a cancelled one: %+v", j)
	}
}

// TestInterruptedJobRunsAgain stops the daemon while a job runs (as a
// crash would, the job stays "running" in the log); the next daemon
// finds it, runs it again and says so.
func TestInterruptedJobRunsAgain(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "slow: y", "  - {name: p, cluster: c, objects: [d/slow], interval: 1h}\n")
	f := newFixture(t, cfg)
	<-started
	jobs, _ := f.d.Jobs()
	f.stop()
	j, _ := func() (joblog.Job, error) {
		jl, err := joblog.Open(filepath.Join(cfg.StateDir, "joblog"))
		if err != nil {
			t.Fatal(err)
		}
		defer jl.Close()
		return jl.Job(jobs[0].ID)
	}()
	if j.State != joblog.Running {
		t.Fatalf("after the stop the job is %s, want still running in the log", j.State)
	}
	f.start()
	<-started
	waitFor(t, "the job's second attempt", func() bool {
		j, _ := f.d.Job(jobs[0].ID)
		return j.State == joblog.Running && j.Attempts == 2
	})
	as, _ := f.d.Alerts("info")
	if len(as) == 0 || !strings.Contains(as[0].Message, "1 interrupted job(s) will run again") {
		t.Fatalf("alerts %+v", as)
	}
	jobs, _ = f.d.Jobs()
	if len(jobs) != 1 {
		t.Fatalf("the restart queued a second backup (a missed run runs once): %+v", jobs)
	}
}

// TestFailedJobAlerts: a backup of an unreachable source fails with an
// error alert naming the cause.
func TestFailedJobAlerts(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "fail: y", "  - {name: p, cluster: c, interval: 1h}\n"))
	waitFor(t, "an error alert", func() bool {
		as, _ := f.d.Alerts("error")
		return len(as) > 0
	})
	as, _ := f.d.Alerts("error")
	if !strings.Contains(as[0].Message, "connection refused") || as[0].Policy != "p" || as[0].Job == "" {
		t.Fatalf("alert %+v", as[0])
	}
	j, _ := f.d.Job(as[0].Job)
	if j.State != joblog.Failed || !strings.Contains(j.Error, "connection refused") {
		t.Fatalf("job %+v", j)
	}
}

// TestReloadKeepsRunningJob reloads with a new interval while a job runs:
// the job goes on, the policy change is an info alert, and the new
// schedule applies.
func TestReloadKeepsRunningJob(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "slow: y", "  - {name: slow, cluster: c, objects: [d/slow], interval: 1h}\n"))
	<-started
	jobs, _ := f.d.Jobs()
	f.d.Reload(testConfig(t, dir, "slow: y", "  - {name: slow, cluster: c, objects: [d/slow], interval: 1h}\n  - {name: fast, cluster: c, objects: [d/t1], interval: 1s}\n"))
	waitFor(t, "versions of the new policy", func() bool { return len(f.versions("c/d/t1")) >= 2 })
	if j, _ := f.d.Job(jobs[0].ID); j.State != joblog.Running || j.Attempts != 1 {
		t.Fatalf("the running job after reload: %+v", j)
	}
	as, _ := f.d.Alerts("info")
	if len(as) < 2 || as[0].Message != "policy fast added by a config reload" {
		t.Fatalf("alerts %+v", as)
	}
}

// TestLimitsAndConflicts: two jobs on one object never run at once; the
// cluster's job limit holds.
func TestLimitsAndConflicts(t *testing.T) {
	cases := []struct {
		a, b []string
		want bool
	}{
		{nil, []string{"d/t"}, true},
		{[]string{"d/t1"}, []string{"d/t2"}, false},
		{[]string{"d/t*"}, []string{"d/t2"}, true},
		{[]string{"d"}, []string{"d/x"}, true},
		{[]string{"a/*"}, []string{"b/*"}, false},
		{[]string{"*/x"}, []string{"b/*"}, true},
	}
	for _, tc := range cases {
		if got := mayOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("mayOverlap(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "slow: y", "  - {name: slow, cluster: c, objects: [d/slow], interval: 1h}\n"))
	<-started
	j, err := f.d.Submit(JobRequest{Kind: joblog.KindBackup, Cluster: "c", Objects: []string{"d/s*"}}, "api")
	if err != nil {
		t.Fatal(err)
	}
	j2, err := f.d.Submit(JobRequest{Kind: joblog.KindBackup, Cluster: "c", Objects: []string{"d/t2"}}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.waitJob(j2.ID); got.State != joblog.Succeeded {
		t.Fatalf("a job on another object: %+v", got)
	}
	if got, _ := f.d.Job(j.ID); got.State != joblog.Queued {
		t.Fatalf("a job on the running job's object is %s, want queued", got.State)
	}
	var wg sync.WaitGroup
	wg.Wait()
}

// TestOtherProcessesSeen: a version another process writes (here another
// engine on the same store) appears in the daemon's view without a
// restart.
func TestOtherProcessesSeen(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "content: x", "  - {name: p, cluster: c, objects: [d/t1], interval: 1h}\n"))
	waitFor(t, "the scheduled version", func() bool { return len(f.versions("c/d/t1")) == 1 })
	other, err := engine.New(engine.Options{Store: filepath.Join(dir, "store"), CacheDir: filepath.Join(dir, "othercache")})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cfg := sources.NewConfig()
	cfg.Set(sources.OptCluster, "c")
	cfg.Set(sources.OptOnly, "d/t2")
	if res, err := other.Backup(context.Background(), engine.BackupRequest{Kind: testKind, Config: cfg}, nil); err != nil || res.Failed != 0 {
		t.Fatalf("backup by another process: %+v, %v", res, err)
	}
	waitFor(t, "the other process's version", func() bool { return len(f.versions("c/d/t2")) == 1 })
}

// TestStoreMissingIsCritical: a store location that holds no store is a
// critical alert, and the backup that needed it fails.
func TestStoreMissingIsCritical(t *testing.T) {
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, cfg: testConfig(t, dir, "content: x", "  - {name: p, cluster: c, interval: 1h}\n")}
	f.start()
	t.Cleanup(f.stop)
	waitFor(t, "critical alerts", func() bool {
		as, _ := f.d.Alerts("critical")
		return len(as) >= 2
	})
	as, _ := f.d.Alerts("critical")
	for _, a := range as {
		if !strings.Contains(a.Message, "store main cannot be") {
			t.Errorf("critical alert %+v", a)
		}
	}
}

// TestClusterLimit: with max_jobs 1 a second backup of the cluster waits
// for the first, and runs when it ends; a check of the store does not.
func TestClusterLimit(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "slow: y", "  - {name: slow, cluster: c, objects: [d/slow], interval: 1h}\n")
	c := cfg.Clusters["c"]
	c.MaxJobs = 1
	cfg.Clusters["c"] = c
	f := newFixture(t, cfg)
	<-started
	slow, _ := f.d.Jobs()
	other, err := f.d.Submit(JobRequest{Kind: joblog.KindBackup, Cluster: "c", Objects: []string{"d/t2"}}, "api")
	if err != nil {
		t.Fatal(err)
	}
	check, err := f.d.Submit(JobRequest{Kind: joblog.KindCheck}, "api")
	if err != nil {
		t.Fatal(err)
	}
	if j := f.waitJob(check.ID); j.State != joblog.Succeeded {
		t.Fatalf("check beside a backup: %+v", j)
	}
	if j, _ := f.d.Job(other.ID); j.State != joblog.Queued {
		t.Fatalf("second backup of a max_jobs 1 cluster is %s, want queued", j.State)
	}
	if _, err := f.d.Cancel(slow[0].ID); err != nil {
		t.Fatal(err)
	}
	if j := f.waitJob(other.ID); j.State != joblog.Succeeded {
		t.Fatalf("the waiting backup after the first ended: %+v", j)
	}
}

// TestMissedRunsRunOnce: a daemon down for five intervals runs the
// policy's backup once at start, not five times.
func TestMissedRunsRunOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(t, dir, "content: x", "  - {name: p, cluster: c, objects: [d/t1], interval: 1h}\n")
	jl, err := joblog.Open(filepath.Join(cfg.StateDir, "joblog"))
	if err != nil {
		t.Fatal(err)
	}
	if err := jl.SetLastRun("p", time.Now().Add(-5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	jl.Close()
	f := newFixture(t, cfg)
	waitFor(t, "the missed run", func() bool { return len(f.versions("c/d/t1")) == 1 })
	time.Sleep(500 * time.Millisecond) // five more ticks
	jobs, _ := f.d.Jobs()
	if len(jobs) != 1 || len(f.versions("c/d/t1")) != 1 {
		t.Fatalf("want one catch-up backup, got %d jobs: %+v", len(jobs), jobs)
	}
}

// TestStoresHideSecrets checks that GET /api/stores shows a store's
// location without the credentials of its rclone connection string, and
// that the error of an unreachable store does not carry them either.
func TestStoresHideSecrets(t *testing.T) {
	dir := t.TempDir()
	y := fmt.Sprintf("state_dir: %s\nstores:\n  s3: {location: \":s3,provider=Minio,access_key_id=AKID,secret_access_key=S3SECRETKEY,endpoint='http://127.0.0.1:1':bucket/dir\"}\n", filepath.Join(dir, "state"))
	cfg, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	infos := d.Stores(ctx)
	if len(infos) != 1 {
		t.Fatalf("stores: %+v", infos)
	}
	s := infos[0]
	for _, secret := range []string{"AKID", "S3SECRETKEY"} {
		if strings.Contains(s.Location, secret) || strings.Contains(s.Error, secret) {
			t.Errorf("store info shows %s: %+v", secret, s)
		}
	}
	if !strings.HasPrefix(s.Location, ":s3") || !strings.HasSuffix(s.Location, "bucket/dir") {
		t.Errorf("location %q does not name the backend and path", s.Location)
	}
}

// hangingS3 is an S3 endpoint that accepts connections and never
// answers: a store that is down the slow way, as a dead network is.
func hangingS3(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return fmt.Sprintf(":s3,provider=Minio,access_key_id=a,secret_access_key=b,endpoint='http://%s':bucket/dir", ln.Addr())
}

// TestStoreDownHidesNoOtherStore runs a daemon with a healthy store and
// one that never answers: the healthy store's objects are listed (the
// other named with its error) within the store timeout, its RPOs are
// still checked (a backup stuck on d/slow leaves d/t1 late, a warning),
// and a job on it runs at once rather than behind the dead store.
func TestStoreDownHidesNoOtherStore(t *testing.T) {
	dir := t.TempDir()
	y := fmt.Sprintf("state_dir: %s\nstores:\n  main: {location: %s}\n  s3: {location: %q}\nclusters:\n  c: {kind: %s, options: {slow: y}}\npolicies:\n  - {name: p, cluster: c, interval: 1s, store: main}\n",
		filepath.Join(dir, "state"), filepath.Join(dir, "store"), hangingS3(t), testKind)
	cfg, err := config.Parse("test.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	initStore(t, filepath.Join(dir, "store"), filepath.Join(dir, "initcache"))
	f := &fixture{t: t, dir: dir, cfg: cfg}
	d, err := New(cfg, Options{Tick: 100 * time.Millisecond, StoreTimeout: 500 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.d, f.cancel, f.done = d, cancel, make(chan struct{})
	go func() { d.Run(ctx); close(f.done) }()
	t.Cleanup(f.stop)

	waitFor(t, "versions of d/t1", func() bool { return len(f.versions("c/d/t1")) > 0 })
	start := time.Now()
	objs := d.Objects(context.Background())
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("objects took %s with a store timeout of 0.5s", took)
	}
	var healthy, failed int
	for _, o := range objs {
		switch {
		case o.Store == "main" && o.Object != "" && o.Error == "":
			healthy++
		case o.Store == "s3" && o.Object == "" && strings.Contains(o.Error, "store s3"):
			failed++
		default:
			t.Errorf("unexpected entry %+v", o)
		}
	}
	if healthy == 0 || failed != 1 {
		t.Fatalf("objects %+v: want main's objects and one error naming s3", objs)
	}
	waitFor(t, "an RPO warning for c/d/t1", func() bool {
		as, _ := d.Alerts("warning")
		for _, a := range as {
			if a.Object == "c/d/t1" && strings.Contains(a.Message, "missed its RPO") {
				return true
			}
		}
		return false
	})
	j, err := d.Submit(JobRequest{Kind: joblog.KindCheck, Store: "main"}, "test")
	if err != nil {
		t.Fatal(err)
	}
	submitted := time.Now()
	if j = f.waitJob(j.ID); j.State != joblog.Succeeded {
		t.Fatalf("check of main: %+v", j)
	}
	if took := time.Since(submitted); took > 5*time.Second {
		t.Errorf("a check of the healthy store took %s: it waited for the dead one", took)
	}
}

// A cancel that reaches a job after its work is done (a backup that had
// committed its version) does not relabel it: it ends succeeded, so the
// job never says "cancelled" beside a version it made.
func TestCancelAfterTheWorkIsDoneLeavesItSucceeded(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, testConfig(t, dir, "content: x", "  - {name: p, cluster: c, objects: [d/t1], interval: 1h}\n"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as Cancel does
	for _, tc := range []struct {
		name string
		err  error
		want joblog.State
	}{
		{"done before the cancel", nil, joblog.Succeeded},
		{"stopped by the cancel", context.Canceled, joblog.Cancelled},
	} {
		id := "j-" + strings.ReplaceAll(tc.name, " ", "-")
		a := &activeJob{job: joblog.Job{ID: id, Kind: joblog.KindBackup, State: joblog.Running}, cancel: func() {}, cancelled: true}
		f.d.mu.Lock()
		f.d.active[id] = a
		f.d.mu.Unlock()
		f.d.finish(ctx, a, outcome{err: tc.err})
		if j, err := f.d.Job(id); err != nil || j.State != tc.want {
			t.Fatalf("%s: job %+v (%v); want %s", tc.name, j, err, tc.want)
		}
	}
}
