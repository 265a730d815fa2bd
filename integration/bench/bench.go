package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// result is one measured figure, or why there is none.
type result struct {
	v   float64
	err error
}

// contender is a tool with what went wrong setting it up, if anything.
type contender struct {
	tool
	setupErr error
}

// bench holds one run's state and results.
type bench struct {
	cfg    config
	runDir string
	tools  []contender
	main   *dataset
	many   *dataset
	res    map[string]map[string]result // tool or "source" -> step -> result
}

// Step names; each is a row (or part of one) in the report.
const (
	stepInit      = "init"
	stepBackup1   = "backup1"
	stepBackup2   = "backup2"
	stepStore     = "store"
	stepRestore   = "restore"
	stepManyInit  = "many-init"
	stepManyBkp   = "many-backup"
	stepLsCold    = "ls-cold"
	stepLsWarm    = "ls-warm"
	stepReadPfx   = "read:"
	sourceColumn  = "source"
	mainTable     = "main"
	manyTable     = "many"
	mountProbeMax = 3
)

// step runs f for tool t unless t's setup or one of deps failed, records
// the figure, and logs it.
func (b *bench) step(t contender, name string, deps []string, f func() (float64, error)) {
	r := b.run(t, deps, f)
	if b.res[t.name()] == nil {
		b.res[t.name()] = map[string]result{}
	}
	b.res[t.name()][name] = r
	if r.err != nil {
		logf("%s %s: %v", t.name(), name, r.err)
		return
	}
	logf("%s %s: %.2f", t.name(), name, r.v)
}

func (b *bench) run(t contender, deps []string, f func() (float64, error)) result {
	if err := b.skipped(t, deps); err != nil {
		return result{err: err}
	}
	v, err := f()
	return result{v: v, err: err}
}

// skipped is why a step of t cannot run (errSkipped: t's setup or one of
// deps failed), nil when it can.
func (b *bench) skipped(t contender, deps []string) error {
	if t.setupErr != nil {
		return fmt.Errorf("%w: %v", errSkipped, t.setupErr)
	}
	for _, d := range deps {
		if r, ok := b.res[t.name()][d]; !ok || r.err != nil {
			return fmt.Errorf("%w: %s failed", errSkipped, d)
		}
	}
	return nil
}

func (b *bench) repo(t contender, table string) string {
	return filepath.Join(b.runDir, t.name()+"-"+table)
}

func (b *bench) mnt(t contender) string { return filepath.Join(b.runDir, "mnt-"+t.name()) }

// run is the whole benchmark.
func run(ctx context.Context, cfg config) error {
	runDir := filepath.Join(cfg.cache, "run")
	if cfg.mongoOnly { // its own run directory: a concurrent full run would wipe it, or it that run's
		runDir += "-mongo"
	}
	if cfg.cassOnly {
		return runCassOnly(ctx, cfg, runDir+"-cassandra")
	}
	b := &bench{cfg: cfg, runDir: runDir, res: map[string]map[string]result{}}
	if err := b.prepare(ctx); err != nil {
		return err
	}
	var realOut bytes.Buffer
	if !cfg.prepare && !cfg.mongoOnly && !cfg.hdfsOnly {
		b.versionsOfMain(ctx)
		b.restores(ctx)
		b.mountReads(ctx)
		b.listings(ctx)
		if cfg.real {
			b.realPart(ctx, &realOut)
		}
	}
	var m *mongoBench
	if cfg.mongoSize > 0 && !cfg.hdfsOnly {
		m = b.mongoPart(ctx)
	}
	var h *hdfsBench
	if cfg.hdfsSize > 0 && !cfg.prepare {
		h = b.hdfsPart(ctx)
	}
	if cfg.prepare {
		return ctx.Err()
	}
	if !cfg.mongoOnly && !cfg.hdfsOnly {
		b.report(os.Stdout)
		_, _ = realOut.WriteTo(os.Stdout)
	}
	if m != nil {
		m.report(os.Stdout)
	}
	if h != nil {
		h.report(os.Stdout)
	}
	if cfg.cassSize > 0 {
		b.cassPart(ctx).report(os.Stdout)
	}
	return ctx.Err()
}

// runCassOnly runs the Cassandra part alone, in its own run directory.
func runCassOnly(ctx context.Context, cfg config, runDir string) error {
	if err := os.RemoveAll(runDir); err != nil {
		return err
	}
	b := &bench{cfg: cfg, runDir: runDir, res: map[string]map[string]result{}}
	c := b.cassPart(ctx)
	if !cfg.prepare {
		c.report(os.Stdout)
	}
	return ctx.Err()
}

// prepare cleans the previous run, sets up the tools and the data.
func (b *bench) prepare(ctx context.Context) error {
	if err := b.cleanRunDir(); err != nil {
		return err
	}
	if b.cfg.real && !b.cfg.mongoOnly && !b.cfg.hdfsOnly {
		// Now rather than after the generated set's steps.
		if err := ensureTool(ctx, "rsync", "the real tree's second release", "rsync"); err != nil {
			return fmt.Errorf("%w; or pass -real=false", err)
		}
	}
	if err := ensureTool(ctx, "fuse3", "mounts", "fusermount3", "fusermount"); err != nil {
		logf("warning: %v", err)
	}
	for _, name := range b.cfg.tools {
		if !b.cfg.prepare && !(b.cfg.mongoOnly && name != "strata") {
			b.tools = append(b.tools, b.setupTool(ctx, name))
		}
	}
	if b.cfg.mongoOnly || b.cfg.hdfsOnly {
		return nil
	}
	b.main = mainSpec(b.cfg.cache, b.cfg.size, b.cfg.seed)
	b.many = manySpec(b.cfg.cache, b.cfg.files, b.cfg.seed)
	for _, d := range []*dataset{b.main, b.many} {
		if err := d.ensure(); err != nil {
			return fmt.Errorf("generate %s data set: %w", d.name, err)
		}
	}
	return nil
}

// cleanRunDir unmounts and removes what a previous run left.
func (b *bench) cleanRunDir() error {
	if entries, err := os.ReadDir(b.runDir); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "mnt-") {
				unmountStale(filepath.Join(b.runDir, e.Name()))
			}
		}
	}
	if err := os.RemoveAll(b.runDir); err != nil {
		return fmt.Errorf("clean %s: %w", b.runDir, err)
	}
	return os.MkdirAll(b.runDir, 0o755)
}

func (b *bench) setupTool(ctx context.Context, name string) contender {
	switch name {
	case "strata":
		bin := b.cfg.strata
		var err error
		if bin == "" {
			bin, err = buildStrata(ctx, b.cfg.repoRoot, b.runDir)
		}
		t := contender{tool: strata{bin: bin, cache: filepath.Join(b.runDir, "strata-cache"), level: b.cfg.compression}, setupErr: err}
		if err == nil {
			logf("strata: %s (%s)", bin, t.version(ctx))
		}
		return t
	default:
		bin := b.cfg.restic
		var err error
		if bin == "" {
			bin, err = findRestic(ctx, b.cfg.cache)
		}
		t := contender{tool: restic{bin: bin, cache: filepath.Join(b.runDir, "restic-cache")}, setupErr: err}
		if err == nil {
			logf("restic: %s (%s)", bin, t.version(ctx))
		}
		return t
	}
}

// versionsOfMain backs up version 1 and version 2 of the main set with
// each tool, then measures the store. The first backup is a median of
// -repeat runs, the tools taking turns, each run into a new store: run
// once, strata's moved from 384 to 132 MB/s between two bench runs of
// code that did not touch it (a minute of the virtual disk reading at a
// third of its speed), restic's not at all (it is bound by its CPU).
func (b *bench) versionsOfMain(ctx context.Context) {
	for _, t := range b.tools {
		b.step(t, stepInit, nil, func() (float64, error) { return 0, t.initRepo(ctx, b.repo(t, mainTable)) })
	}
	b.inTurn(stepBackup1, []string{stepInit}, func(t contender) (func(int) (float64, error), func(), error) {
		repo := b.repo(t, mainTable)
		return func(i int) (float64, error) {
			if i > 0 {
				if err := freshRepo(ctx, t, repo); err != nil {
					return 0, err
				}
			}
			d, err := timed(func() error { return t.backup(ctx, repo, mainTable, b.main.dir) })
			return rate(b.main.bytes(1), d), err
		}, func() {}, nil
	})
	logf("changing 10%% of the main data set")
	if err := b.main.toV2(); err != nil {
		logf("change data set: %v", err)
		return
	}
	b.inTurn(stepBackup2, []string{stepBackup1}, func(t contender) (func(int) (float64, error), func(), error) {
		return b.fromSaved(t, b.repo(t, mainTable), func() (float64, error) {
			d, err := timed(func() error { return t.backup(ctx, b.repo(t, mainTable), mainTable, b.main.dir) })
			return rate(b.main.bytes(2), d), err
		})
	})
	for _, t := range b.tools {
		b.step(t, stepStore, []string{stepBackup2}, func() (float64, error) {
			n, err := diskUsage(b.repo(t, mainTable))
			return float64(n), err
		})
	}
}

// inTurn runs a step of every tool whose deps worked, -repeat times each
// with the tools taking turns run by run (see interleaved), and records
// each tool's median. prepare returns a tool's run and what to do after
// the last one. Taking turns puts both tools' runs of a step of one to
// five seconds in the same minutes of the machine: run one tool after the
// other, each tool's median moved with the machine (restic's no-change
// re-backup of the real tree 3.4-4.5 s, strata's 1.2-1.7 s, across runs
// 28-32) and the ratio with them.
func (b *bench) inTurn(step string, deps []string, prepare func(contender) (func(int) (float64, error), func(), error)) {
	var ts []contender
	var runs []func(int) (float64, error)
	for _, t := range b.tools {
		if err := b.skipped(t, deps); err != nil {
			b.record(t, step, 0, err)
			continue
		}
		run, done, err := prepare(t)
		if err != nil {
			b.record(t, step, 0, err)
			continue
		}
		defer done()
		ts = append(ts, t)
		runs = append(runs, run)
	}
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = t.name()
	}
	vs, errs := interleaved(b.cfg.repeat, names, runs)
	for k, t := range ts {
		b.record(t, step, vs[k], errs[k])
	}
}

// fromSaved makes f a run that starts from the state repo and the tool's
// cache are in now: the generated set's second backup takes a second or
// two, and single runs put its ratio anywhere from 2.8x to 3.4x; the real
// tree's moved between 1.79x and 2.04x, so they are medians of -repeat
// runs. Before each run after the first, repo and cache are put back as
// they were (copies with cp -a, removed by done); the state the last run
// leaves is what later steps see. The cache directory is the tool's whole
// cache, other stores' parts included (f leaves those as they were, so
// putting them back changes nothing).
func (b *bench) fromSaved(t contender, repo string, f func() (float64, error)) (run func(int) (float64, error), done func(), err error) {
	if b.cfg.repeat <= 1 {
		return func(int) (float64, error) { return f() }, func() {}, nil
	}
	saved := filepath.Join(b.runDir, "saved-"+t.name())
	dirs := []string{repo, t.cacheDir()}
	done = func() { os.RemoveAll(saved) }
	for i, d := range dirs {
		if err := copyDir(d, filepath.Join(saved, strconv.Itoa(i))); err != nil {
			done()
			return nil, nil, err
		}
	}
	return func(i int) (float64, error) {
		if i > 0 {
			for j, d := range dirs {
				if err := os.RemoveAll(d); err != nil {
					return 0, err
				}
				if err := copyDir(filepath.Join(saved, strconv.Itoa(j)), d); err != nil {
					return 0, err
				}
			}
		}
		return f()
	}, done, nil
}

// copyDir copies the tree src to dst (which must not exist) with cp -a,
// keeping modes, times and hard links.
func copyDir(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return runCmd(exec.Command("cp", "-a", src, dst))
}

// restores restores the latest version with each tool and checks it.
func (b *bench) restores(ctx context.Context) {
	for _, t := range b.tools {
		b.step(t, stepRestore, []string{stepBackup2}, func() (float64, error) {
			target := filepath.Join(b.runDir, "restore-"+t.name())
			defer os.RemoveAll(target)
			var root string
			d, err := timed(func() (err error) {
				root, err = t.restore(ctx, b.repo(t, mainTable), mainTable, b.main.dir, target)
				return err
			})
			if err != nil {
				return 0, err
			}
			if b.cfg.verify {
				if err := verifyTree(b.main, root); err != nil {
					return 0, fmt.Errorf("restored tree is wrong: %w", err)
				}
			}
			return rate(b.main.bytes(2), d), nil
		})
	}
}

// mountReads reads each large file cold through each tool's mount: the
// median of -repeat reads, each the first read of that file on a freshly
// started mount with the page cache dropped (a read takes about a tenth
// of a second, and single reads put strata's mount at 0.91x to 2.44x
// restic's over seven runs; a second read on the same mount finds the
// chunks in the daemon's memory).
func (b *bench) mountReads(ctx context.Context) {
	for _, t := range b.tools {
		probe := t.latest(b.mnt(t), mainTable, b.main.dir)
		m := &remountable{start: func() (*mount, error) {
			return startMount(t.mountCmd(ctx, b.repo(t, mainTable), b.mnt(t)), b.mnt(t), probe, b.mnt(t)+".log")
		}}
		b.step(t, "mount-main", []string{stepBackup2}, func() (float64, error) { return 0, m.restart() })
		for fi, f := range b.main.largeFiles() {
			b.step(t, stepReadPfx+f.rel, []string{"mount-main"}, func() (float64, error) {
				return medianOf(b.cfg.repeat, func(i int) (float64, error) {
					if fi > 0 || i > 0 {
						if err := m.restart(); err != nil {
							return 0, err
						}
					}
					path := filepath.Join(probe, f.rel)
					var n int64
					d, err := timed(func() (err error) { n, err = readFile(path); return err })
					if err == nil && n != f.sizeAt(2) {
						err = fmt.Errorf("read %d bytes of %s, want %d", n, path, f.sizeAt(2))
					}
					return rate(n, d), err
				})
			})
		}
		m.stop()
	}
}

// listings backs up the many-files set and times ls -lR of it mounted and
// of the source directory, cold and warm.
func (b *bench) listings(ctx context.Context) {
	for _, t := range b.tools {
		repo := b.repo(t, manyTable)
		b.step(t, stepManyInit, nil, func() (float64, error) { return 0, t.initRepo(ctx, repo) })
		b.step(t, stepManyBkp, []string{stepManyInit}, func() (float64, error) {
			d, err := timed(func() error { return t.backup(ctx, repo, manyTable, b.many.dir) })
			return float64(len(b.many.files)) / d.Seconds(), err
		})
		dir := t.latest(b.mnt(t), manyTable, b.many.dir)
		m := &remountable{start: func() (*mount, error) {
			return startMount(t.mountCmd(ctx, repo, b.mnt(t)), b.mnt(t), dir, b.mnt(t)+"-many.log")
		}}
		b.step(t, "mount-many", []string{stepManyBkp}, func() (float64, error) { return 0, m.restart() })
		pair := sourcePair(t, stepLsCold, func() (float64, error) { return lsSecs(ctx, b.many.dir) })
		b.lsStepsNamed(ctx, contender{tool: t.tool}, dir, stepLsCold, stepLsWarm, m.restart, pair, "mount-many")
		m.stop()
	}
	b.sourceLs(ctx, b.many.dir, stepLsCold, stepLsWarm)
}

// source is the source directory's column in the results.
var source = contender{tool: sourceDir{}}

// sourceDir stands for the source directory in the results.
type sourceDir struct{ tool }

func (sourceDir) name() string { return sourceColumn }
