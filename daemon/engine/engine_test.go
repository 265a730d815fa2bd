package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// testKind is a source kind registered by this test: objects "d/t1",
// "d/t2" and, when the config says so, "d/slow", which blocks until its
// context ends. Its sessions have one consistent point and count Begins.
const testKind = "enginetest"

var testBegins struct {
	sync.Mutex
	n  int
	at []time.Time
}

func init() {
	sources.Register(sources.Kind{
		Name:    testKind,
		Options: []sources.Option{{Name: "slow"}, {Name: "content"}, {Name: "file"}},
		New: func(cfg sources.Config) (sources.Source, error) {
			return &testSource{cluster: cfg.Cluster(), slow: cfg.Get("slow") != "", content: cfg.Get("content"), file: cfg.Get("file")}, nil
		},
		Loader: &testLoads[0],
	})
	sources.Register(sources.Kind{
		Name:   testOtherKind,
		New:    func(sources.Config) (sources.Source, error) { return nil, errors.New("loads only") },
		Loader: &testLoads[1],
	})
}

// testOtherKind is a second kind with a Loader, whose versions the store
// never holds.
const testOtherKind = "enginetestother"

// testLoads are the Loaders of testKind and testOtherKind; they count
// their loads.
var testLoads [2]testLoader

type testLoader struct {
	mu   sync.Mutex
	n    int
	path string // the last load's "path" setting
}

func (l *testLoader) Load(ctx context.Context, target string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.path = opts.Extra.Get("path")
	return sources.LoadResult{Summary: "loaded"}, nil
}

func (l *testLoader) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

type testSource struct {
	cluster string
	slow    bool
	content string
	file    string // raw name of the file each object holds; "" is "data"
}

func (s *testSource) Kind() string { return testKind }
func (s *testSource) Close() error { return nil }

func (s *testSource) Discover(context.Context) ([]sources.Object, error) {
	objs := []sources.Object{{Cluster: s.cluster, Database: "d", Table: "t1"}}
	if s.slow {
		objs = append(objs, sources.Object{Cluster: s.cluster, Database: "d", Table: "slow"})
	}
	return append(objs, sources.Object{Cluster: s.cluster, Database: "d", Table: "t2"}), nil
}

func (s *testSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	return sources.Result{}, errors.New("the engine must back up through a session")
}

func (s *testSource) Begin(ctx context.Context, objs []sources.Object, r sources.Reporter) (sources.Session, error) {
	testBegins.Lock()
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC).Add(time.Duration(len(testBegins.at)) * time.Hour)
	testBegins.n++
	testBegins.at = append(testBegins.at, at)
	testBegins.Unlock()
	r.Report(sources.Event{Step: fmt.Sprintf("session of %d objects", len(objs))})
	return &testSession{src: s, at: at}, nil
}

type testSession struct {
	src *testSource
	at  time.Time
}

func (s *testSession) At() time.Time { return s.at }
func (s *testSession) Close() error  { return nil }

func (s *testSession) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	data := []byte(s.src.content + obj.Table)
	w.Report(sources.Event{Step: "rows", Done: 0, Total: 2})
	name := s.src.file
	if name == "" {
		name = "data"
	}
	if err := w.Add(ctx, sources.Entry{Path: name, Type: sources.TypeFile, Mode: 0o644, Size: int64(len(data))}, bytes.NewReader(data)); err != nil {
		return sources.Result{}, err
	}
	w.Report(sources.Event{Step: "rows", Done: 2, Total: 2})
	if obj.Table == "slow" {
		<-ctx.Done()
		return sources.Result{}, ctx.Err()
	}
	return sources.Result{}, nil
}

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	e, err := New(Options{Store: dir + "/store", CacheDir: dir + "/cache"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Init(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func testRequest(extra ...string) BackupRequest {
	cfg := sources.NewConfig()
	cfg.Set(sources.OptCluster, "c")
	for i := 0; i+1 < len(extra); i += 2 {
		cfg.Set(extra[i], extra[i+1])
	}
	return BackupRequest{Kind: testKind, Config: cfg}
}

// TestBackupOneSession backs up two objects in one session: one Begin,
// both versions named by the session's point, and the source's own
// progress reaches the caller tagged with the object.
func TestBackupOneSession(t *testing.T) {
	e := newTestEngine(t)
	testBegins.Lock()
	before := testBegins.n
	testBegins.Unlock()
	var mu sync.Mutex
	var srcEvents []Event
	res, err := e.Backup(context.Background(), testRequest("content", "v1-"), func(ev Event) {
		if ev.Source != nil {
			mu.Lock()
			srcEvents = append(srcEvents, ev)
			mu.Unlock()
		}
	})
	if err != nil || res.Failed != 0 || len(res.Objects) != 2 {
		t.Fatalf("backup: %+v, %v", res, err)
	}
	testBegins.Lock()
	begins, at := testBegins.n-before, testBegins.at[len(testBegins.at)-1]
	testBegins.Unlock()
	if begins != 1 {
		t.Fatalf("%d sessions for one run, want 1", begins)
	}
	for _, r := range res.Objects {
		if !r.Version.Time.Equal(at) {
			t.Errorf("%s: version at %s, want the session's point %s", r.Object, r.Version.Time, at)
		}
	}
	var rows []string
	for _, ev := range srcEvents {
		if ev.Source.Step == "rows" && ev.Source.Done == 2 {
			rows = append(rows, ev.Object)
		}
	}
	if strings.Join(rows, ",") != "c/d/t1,c/d/t2" {
		t.Errorf("source progress for %q, want both objects in order; events: %+v", rows, srcEvents)
	}
}

// TestBackupCancel cancels a run while an object is being backed up: that
// object gets no version, the one before it keeps its own, the one after
// is not started, and the next run succeeds.
func TestBackupCancel(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	res, err := e.Backup(ctx, testRequest("slow", "yes", "content", "x"), func(ev Event) {
		if ev.Object == "c/d/slow" && ev.Source != nil && ev.Source.Done == 2 {
			once.Do(cancel)
		}
	})
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	if res.Failed != 2 || res.Objects[0].Error != "" || !strings.Contains(res.Objects[1].Error, "canceled") || !strings.HasPrefix(res.Objects[2].Error, "not started") {
		t.Fatalf("want t1 backed up, slow cancelled and t2 not started, got %+v", res)
	}
	vs, err := e.Versions(context.Background(), "c/d/slow")
	if err != nil || len(vs) != 0 {
		t.Fatalf("cancelled backup left versions %v (err %v)", vs, err)
	}
	res, err = e.Backup(context.Background(), testRequest("content", "y"), nil)
	if err != nil || res.Failed != 0 {
		t.Fatalf("backup after a cancelled one: %+v, %v", res, err)
	}
	vs, err = e.Versions(context.Background(), "c/d")
	if err != nil || len(vs) != 3 {
		t.Fatalf("want 3 versions (t1 twice, t2 once), got %d (err %v)", len(vs), err)
	}
}

func TestBadInput(t *testing.T) {
	e := newTestEngine(t)
	cases := []struct {
		name string
		req  BackupRequest
		want string
	}{
		{"unknown kind", BackupRequest{Kind: "nosuch", Config: sources.NewConfig()}, `unknown source kind "nosuch"`},
		{"missing cluster", BackupRequest{Kind: testKind, Config: sources.NewConfig()}, `setting "cluster" is required`},
		{"unknown setting", testRequest("colour", "red"), `unknown setting "colour"`},
		{"bad pattern", testRequest(sources.OptOnly, "d/[x"), `--only "d/[x"`},
	}
	for _, tc := range cases {
		_, err := e.Backup(context.Background(), tc.req, nil)
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a bad-input error containing %q", tc.name, err, tc.want)
		}
	}
}

// TestWorkflowsOnOneStore runs backup, diff, forget, prune, check and
// restore through one engine (one open store), as the daemon will.
func TestWorkflowsOnOneStore(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, content := range []string{"first-", "second-"} {
		if res, err := e.Backup(ctx, testRequest("content", content), nil); err != nil || res.Failed != 0 {
			t.Fatalf("backup %s: %+v, %v", content, res, err)
		}
	}
	d, err := e.Diff(ctx, "c/d/t1", "2026-01-01..latest")
	if err != nil || d.From != nil || len(d.Changed) != 1 {
		t.Fatalf("diff from before the first version: %+v, %v", d, err)
	}
	ds, err := e.Forget(ctx, Policy{Last: 1}, nil, false)
	if err != nil || len(ds) != 4 {
		t.Fatalf("forget: %+v, %v", ds, err)
	}
	if _, err := e.Prune(ctx, false, nil); err != nil {
		t.Fatalf("prune: %v", err)
	}
	if res, err := e.Check(ctx, nil); err != nil || len(res.Damage) != 0 {
		t.Fatalf("check: %+v, %v", res, err)
	}
	dir := t.TempDir()
	if _, err := e.Restore(ctx, RestoreRequest{Version: "c/d/t1/latest", Target: dir}, nil); err != nil {
		t.Fatalf("restore: %v", err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "data"))
	if err != nil || string(got) != "second-t1" {
		t.Fatalf("restored %q, %v; want the newest version's content", got, err)
	}
}

// A mount point must be a directory that nothing is mounted on yet.
func TestCheckMountpoint(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, says string // says "" when accepted
	}{
		{dir, ""},
		{file, "is not a directory"},
		{filepath.Join(dir, "missing"), "is not a directory"},
		{"/proc", "is a mount point already"},
	} {
		err := checkMountpoint(c.path)
		switch {
		case c.says == "" && err != nil:
			t.Errorf("%s: %v, want it accepted", c.path, err)
		case c.says != "" && (err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), c.path)):
			t.Errorf("%s: %v, want an error naming it that says %q", c.path, err, c.says)
		}
	}
}

// TestDiffRefusesInvertedRange: T1 later than T2 is bad input naming the
// range (the mount's @diff answers ENOENT), not the diff read backwards;
// equal ends and "latest" last are fine.
func TestDiffRefusesInvertedRange(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, content := range []string{"first-", "second-"} {
		if res, err := e.Backup(ctx, testRequest("content", content), nil); err != nil || res.Failed != 0 {
			t.Fatalf("backup %s: %+v, %v", content, res, err)
		}
	}
	for _, tc := range []struct {
		rng string
		ok  bool
	}{
		{"2030-01-01..2020-01-01", false},
		{"latest..2030-01-01", false},
		{"2030-01-01T00:00:00Z..1600000000", false},
		{"2020-01-01..2030-01-01", true},
		{"2030-01-01..latest", true},
		{"latest..latest", true},
	} {
		_, err := e.Diff(ctx, "c/d/t1", tc.rng)
		switch {
		case tc.ok && err != nil:
			t.Errorf("diff %s: %v, want it accepted", tc.rng, err)
		case !tc.ok && (!errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "T1 is later than T2") || !strings.Contains(err.Error(), tc.rng)):
			t.Errorf("diff %s: %v, want bad input saying T1 is later than T2 and naming the range", tc.rng, err)
		}
	}
}

// TestLoadChecksKind: loading a version into a database of another kind
// is bad input naming the version's kind and the loader's, before that
// loader reads anything; the version's own kind loads it.
func TestLoadChecksKind(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, content := range []string{"first-", "second-"} {
		if res, err := e.Backup(ctx, testRequest("content", content), nil); err != nil || res.Failed != 0 {
			t.Fatalf("backup %s: %+v, %v", content, res, err)
		}
	}
	before := testLoads[1].count()
	for _, spec := range []string{"c/d/t1/latest", "c/d/t1/2020-01-01..latest"} {
		_, err := e.Load(ctx, LoadRequest{Kind: testOtherKind, Target: "x", Spec: spec})
		want := "c/d/t1 is a " + testKind + " version; --to-" + testOtherKind + " loads " + testOtherKind + " versions"
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), want) {
			t.Errorf("load %s into %s: %v, want bad input saying %q", spec, testOtherKind, err, want)
		}
	}
	if n := testLoads[1].count() - before; n != 0 {
		t.Errorf("the %s loader ran %d times on versions of another kind", testOtherKind, n)
	}
	before = testLoads[0].count()
	if _, err := e.Load(ctx, LoadRequest{Kind: testKind, Target: "x", Spec: "c/d/t1/latest"}); err != nil || testLoads[0].count() != before+1 {
		t.Errorf("load into its own kind: %v, %d loads", err, testLoads[0].count()-before)
	}
}

// TestBadTimeIsBadInput: a malformed time in a version name or range is
// bad input (exit 2 in the CLI) naming it, in restore, diff and load
// alike; a well-formed time before the first version is not found.
func TestBadTimeIsBadInput(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	if res, err := e.Backup(ctx, testRequest("content", "x"), nil); err != nil || res.Failed != 0 {
		t.Fatalf("backup: %+v, %v", res, err)
	}
	for _, tc := range []struct {
		name string
		run  func() error
		says string
	}{
		{"restore", func() error {
			_, err := e.Restore(ctx, RestoreRequest{Version: "c/d/t1/2026-13-45", Target: t.TempDir()}, nil)
			return err
		}, "2026-13-45"},
		{"diff T1", func() error { _, err := e.Diff(ctx, "c/d/t1", "yesterday..latest"); return err }, "yesterday"},
		{"diff T2", func() error { _, err := e.Diff(ctx, "c/d/t1", "2020-01-01..soon"); return err }, "soon"},
		{"load", func() error {
			_, err := e.Load(ctx, LoadRequest{Kind: testKind, Target: "x", Spec: "c/d/t1/noon"})
			return err
		}, "noon"},
	} {
		if err := tc.run(); !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want bad input naming %q", tc.name, err, tc.says)
		}
	}
	_, err := e.Restore(ctx, RestoreRequest{Version: "c/d/t1/2020-01-01", Target: t.TempDir()}, nil)
	if err == nil || errors.Is(err, ErrBadInput) {
		t.Errorf("restore before the first version: %v, want not found (not bad input)", err)
	}
}

// TestRestorePathEscaped: --path takes the raw name or the escaped one
// diff and the mount show (50%25off.txt for 50%off.txt), as --only does.
func TestRestorePathEscaped(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	if res, err := e.Backup(ctx, testRequest("content", "x-", "file", "50%off.txt"), nil); err != nil || res.Failed != 0 {
		t.Fatalf("backup: %+v, %v", res, err)
	}
	for _, path := range []string{"50%off.txt", "50%25off.txt", "/50%25off.txt"} {
		dir := t.TempDir()
		res, err := e.Restore(ctx, RestoreRequest{Version: "c/d/t1/latest", Target: dir, Path: path}, nil)
		if err != nil || res.Restored != 1 {
			t.Errorf("--path %s: %+v, %v; want the file restored", path, res.RestoreResult, err)
			continue
		}
		if got, err := os.ReadFile(filepath.Join(dir, "50%off.txt")); err != nil || string(got) != "x-t1" {
			t.Errorf("--path %s: restored %q, %v; want the raw name with its content", path, got, err)
		}
	}
	extra := sources.NewConfig()
	extra.Set("path", "50%25off.txt")
	if _, err := e.Load(ctx, LoadRequest{Kind: testKind, Target: "x", Spec: "c/d/t1/latest", Options: sources.LoadOptions{Extra: extra}}); err != nil {
		t.Errorf("load --path 50%%25off.txt: %v", err)
	}
	testLoads[0].mu.Lock()
	if got := testLoads[0].path; got != "50%off.txt" {
		t.Errorf("load --path 50%%25off.txt: the loader got path %q, want the raw 50%%off.txt", got)
	}
	testLoads[0].mu.Unlock()
	if _, err := e.Restore(ctx, RestoreRequest{Version: "c/d/t1/latest", Target: t.TempDir(), Path: "nosuch%2"}, nil); err == nil {
		t.Errorf("--path nosuch%%2: restored, want not found")
	}
}

// TestPruneDryRunNamesPacks: prune --dry-run names each pack it would
// delete or rewrite (the README says it lists exactly what prune would
// remove), removes none of them, and prune then removes those.
func TestPruneDryRunNamesPacks(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	for _, content := range []string{"first-", "second-"} {
		if res, err := e.Backup(ctx, testRequest("content", content), nil); err != nil || res.Failed != 0 {
			t.Fatalf("backup %s: %+v, %v", content, res, err)
		}
	}
	if _, err := e.Forget(ctx, Policy{Last: 1}, nil, false); err != nil {
		t.Fatal(err)
	}
	dry, err := e.Prune(ctx, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := append(append([]string{}, dry.Deleted...), dry.Rewritten...)
	if len(dry.Deleted) != dry.PacksDeleted || len(dry.Rewritten) != dry.PacksRewritten || len(names) == 0 {
		t.Fatalf("dry run: %+v; want the packs named, as many as counted, and some", dry)
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(e.opts.Store, name)); err != nil {
			t.Errorf("pack %s after the dry run: %v", name, err)
		}
	}
	res, err := e.Prune(ctx, false, nil)
	if err != nil || !slices.Equal(res.Deleted, dry.Deleted) || !slices.Equal(res.Rewritten, dry.Rewritten) {
		t.Fatalf("prune: %+v, %v; want what the dry run named", res, err)
	}
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(e.opts.Store, name)); err == nil {
			t.Errorf("pack %s is still there after prune", name)
		}
	}
}

// TestLocationHidesSecrets checks that a store location shown before its
// store is open keeps no secret, whatever its quoting.
func TestLocationHidesSecrets(t *testing.T) {
	for _, in := range []string{
		":s3,provider=Minio,access_key_id=AKID,secret_access_key=S3SECRETKEY,endpoint='http://h:9000':bucket/dir",
		":s3,provider=Minio,endpoint=http://h:9000,secret_access_key=S3SECRETKEY:bucket",
		"remote,password=S3SECRETKEY:dir",
		":sftp,host=h,user=u,pass=S3SECRETKEY:/backup",
	} {
		e := &Engine{opts: Options{Store: in}}
		if got := e.Location(); strings.Contains(got, "S3SECRETKEY") || strings.Contains(got, "AKID") {
			t.Errorf("Location of %q = %q: a secret shows", in, got)
		}
	}
}
