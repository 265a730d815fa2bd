package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The real-world data set: the Linux kernel source tree as Debian ships
// it in linux-source-6.1 (about 78,000 files, 1.3 GB, mostly small text
// files), which no one here generated. Version 2 is a later stable
// release of the same package, synced over version 1 with `rsync -a
// --delete` as a user's tree would change. Both come from this machine's
// Debian mirror (`apt-get download`) once and are kept under -cache.
const (
	realPackage = "linux-source-6.1"
	realTable   = "real"
)

// realSet is the real-world tree: two releases extracted, and the working
// directory both tools back up.
type realSet struct {
	v1, v2 string // extracted releases
	dir    string // the tree backed up: v1, then synced to v2
	files  int
	bytes1 int64
	bytes2 int64
}

// Step names of the real-tree part.
const (
	realInit     = "real-init"
	realBackup1  = "real-backup1"
	realRSS1     = "real-backup1-rss"
	realSame     = "real-nochange"
	realGrowth   = "real-nochange-growth"
	realBackup2  = "real-backup2"
	realRestore  = "real-restore"
	realRSSRest  = "real-restore-rss"
	realUserRest = "real-restore-user"
	realMount    = "real-mount"
	realTar      = "real-tar-cold"
	realLsCold   = "real-ls-cold"
	realLsWarm   = "real-ls-warm"
)

// fetchRelease downloads and extracts one release of realPackage into
// cache/real/<version> unless done before.
func fetchRelease(ctx context.Context, cache, version string) (string, error) {
	base := filepath.Join(cache, "real")
	dir := filepath.Join(base, version)
	if _, err := os.Stat(dir + ".done"); err == nil {
		return dir, nil
	}
	logf("fetching %s=%s from the Debian mirror", realPackage, version)
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	dl := exec.CommandContext(ctx, "apt-get", "download", realPackage+"="+version)
	dl.Dir = base
	if err := runCmd(dl); err != nil {
		return "", fmt.Errorf("apt-get download %s=%s (see apt-cache madison %s for the versions this mirror has): %w", realPackage, version, realPackage, err)
	}
	debs, _ := filepath.Glob(filepath.Join(base, realPackage+"_"+strings.ReplaceAll(version, ":", "%3a")+"_*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("apt-get download left no .deb of %s %s in %s", realPackage, version, base)
	}
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// The .deb holds /usr/src/linux-source-6.1.tar.xz: the tree itself.
	script := fmt.Sprintf("dpkg-deb --fsys-tarfile %q | tar -xO --wildcards './usr/src/*.tar.xz' | tar -xJ -C %q --strip-components=1", debs[0], dir)
	if err := runCmd(exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", script)); err != nil {
		return "", fmt.Errorf("extract %s: %w", debs[0], err)
	}
	_ = os.Remove(debs[0])
	return dir, os.WriteFile(dir+".done", nil, 0o644)
}

// prepareReal fetches both releases and resets the working tree to v1.
func (b *bench) prepareReal(ctx context.Context) (*realSet, error) {
	v1, err := fetchRelease(ctx, b.cfg.cache, b.cfg.realV1)
	if err != nil {
		return nil, err
	}
	v2, err := fetchRelease(ctx, b.cfg.cache, b.cfg.realV2)
	if err != nil {
		return nil, err
	}
	r := &realSet{v1: v1, v2: v2, dir: filepath.Join(b.cfg.cache, "real", "tree")}
	if err := syncTree(ctx, v1, r.dir); err != nil {
		return nil, err
	}
	r.files, r.bytes1, err = treeSize(v1)
	if err == nil {
		_, r.bytes2, err = treeSize(v2)
	}
	return r, err
}

// syncTree makes dst equal to src as a user's `rsync -a --delete` would.
func syncTree(ctx context.Context, src, dst string) error {
	return runCmd(exec.CommandContext(ctx, "rsync", "-a", "--delete", src+"/", dst+"/"))
}

// treeSize counts the regular files under dir and their bytes.
func treeSize(dir string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			files++
			bytes += fi.Size()
		}
		return err
	})
	return files, bytes, err
}

// realPart runs every step of the real tree for each tool, then the
// source baselines, and prints its table.
func (b *bench) realPart(ctx context.Context, out io.Writer) {
	r, err := b.prepareReal(ctx)
	if err != nil {
		logf("real-world tree: %v", err)
		fmt.Fprintf(out, "\nreal-world tree: not measured: %v\n", err)
		return
	}
	logf("real-world tree: %s %s -> %s, %d files, %s", realPackage, b.cfg.realV1, b.cfg.realV2, r.files, human(float64(r.bytes1)))
	for _, t := range b.tools {
		b.realVersion1(ctx, t, r)
	}
	b.realNoChange(ctx, r)
	if err := syncTree(ctx, r.v2, r.dir); err != nil {
		logf("sync the tree to v2: %v", err)
		return
	}
	b.inTurn(realBackup2, []string{realSame}, func(t contender) (func(int) (float64, error), func(), error) {
		return b.fromSaved(t, b.repo(t, realTable), func() (float64, error) {
			d, err := timed(func() error { return t.backup(ctx, b.repo(t, realTable), realTable, r.dir) })
			return rate(r.bytes2, d), err
		})
	})
	for _, t := range b.tools {
		b.realRestore(ctx, t, r)
		b.realMountSteps(ctx, t, r)
	}
	// The source's cold runs were taken in turn with strata's (see
	// sourcePair); alone only when strata's were not run.
	if _, ok := b.res[sourceColumn][realTar]; !ok {
		b.step(source, realTar, nil, func() (float64, error) {
			return b.coldMedian(source, nil, func() (float64, error) { return tarRate(ctx, r.dir, r.bytes2) }, nil)
		})
	}
	b.sourceLs(ctx, r.dir, realLsCold, realLsWarm)
	b.realReport(out, r)
}

// realVersion1 backs up v1 into a new store (-repeat times, each into a
// new store) and records the first backup's peak RSS.
func (b *bench) realVersion1(ctx context.Context, t contender, r *realSet) {
	repo := b.repo(t, realTable)
	b.step(t, realInit, nil, func() (float64, error) { return 0, t.initRepo(ctx, repo) })
	var rss []float64
	b.step(t, realBackup1, []string{realInit}, func() (float64, error) {
		return medianOf(b.cfg.repeat, func(i int) (float64, error) {
			if i > 0 {
				if err := freshRepo(ctx, t, repo); err != nil {
					return 0, err
				}
			}
			d, err := timed(func() error { return t.backup(ctx, repo, realTable, r.dir) })
			rss = append(rss, float64(lastUsage.maxRSS))
			return rate(r.bytes1, d), err
		})
	})
	b.record(t, realRSS1, median(rss), b.res[t.name()][realBackup1].err)
}

// freshRepo replaces repo with a new, empty store: a first backup again.
func freshRepo(ctx context.Context, t contender, repo string) error {
	if err := os.RemoveAll(repo); err != nil {
		return err
	}
	return t.initRepo(ctx, repo)
}

// realNoChange backs up the unchanged v1 again with each tool whose first
// backup worked, the tools taking turns (inTurn), and records what the
// first no-change version added to each store.
func (b *bench) realNoChange(ctx context.Context, r *realSet) {
	growth := map[string]int64{}
	b.inTurn(realSame, []string{realBackup1}, func(t contender) (func(int) (float64, error), func(), error) {
		repo := b.repo(t, realTable)
		return func(i int) (float64, error) {
			var before int64
			if i == 0 { // the growth row is the first no-change version's
				var err error
				if before, err = diskUsage(repo); err != nil {
					return 0, err
				}
			}
			d, err := timed(func() error { return t.backup(ctx, repo, realTable, r.dir) })
			if err == nil && i == 0 {
				var after int64
				after, err = diskUsage(repo)
				growth[t.name()] = after - before
			}
			return rate(r.bytes1, d), err
		}, func() {}, nil
	})
	for _, t := range b.tools {
		b.step(t, realGrowth, []string{realSame}, func() (float64, error) { return float64(growth[t.name()]), nil })
	}
}

// interleaved runs each of runs n times (at least once), taking turns
// run by run (run 0 of each, then run 1 of each...), and returns each
// one's median and error; a run that fails ends that one's turns only.
// The runs of each are logged under its name (none for a single one).
func interleaved(n int, names []string, runs []func(i int) (float64, error)) ([]float64, []error) {
	vs := make([][]float64, len(runs))
	errs := make([]error, len(runs))
	for i := range max(n, 1) {
		for k, f := range runs {
			if errs[k] != nil {
				continue
			}
			v, err := f(i)
			if err != nil {
				errs[k] = err
				continue
			}
			vs[k] = append(vs[k], v)
		}
	}
	meds := make([]float64, len(runs))
	for k := range runs {
		if errs[k] != nil {
			continue
		}
		if len(vs[k]) > 1 {
			logf("  %s", strings.TrimSpace(names[k]+" runs: "+runsText(vs[k])))
		}
		meds[k] = median(vs[k])
	}
	return meds, errs
}

// medianOf runs a measurement n times (at least once; f is told which
// run it is) and returns the median figure: one run of a step of a few
// seconds moved by a quarter between bench runs of the same code, enough
// to flip a target. The first error ends it.
func medianOf(n int, f func(i int) (float64, error)) (float64, error) {
	vs, errs := interleaved(n, []string{""}, []func(int) (float64, error){f})
	return vs[0], errs[0]
}

// runsText lists the figures a median was taken of, for the log: the
// spread says how far to trust the median.
func runsText(vs []float64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strings.Join(parts, ", ")
}

// median is the middle of vs (the upper middle of an even count), 0
// when empty.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	vs = slices.Clone(vs)
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// record stores a figure measured inside another step.
func (b *bench) record(t contender, step string, v float64, err error) {
	b.step(t, step, nil, func() (float64, error) { return v, err })
}

func (b *bench) realRestore(ctx context.Context, t contender, r *realSet) {
	b.step(t, realRestore, []string{realBackup2}, func() (float64, error) {
		target := filepath.Join(b.runDir, "real-restore-"+t.name())
		defer os.RemoveAll(target)
		d, err := timed(func() error {
			_, err := t.restore(ctx, b.repo(t, realTable), realTable, r.dir, target)
			return err
		})
		b.record(t, realRSSRest, float64(lastUsage.maxRSS), err)
		b.record(t, realUserRest, lastUsage.user, err)
		return rate(r.bytes2, d), err
	})
}

// realMountSteps mounts the tool's store and reads the latest version
// with tar (cold) and lists it with ls -lR (cold, warm).
func (b *bench) realMountSteps(ctx context.Context, t contender, r *realSet) {
	dir := t.latest(b.mnt(t), realTable, r.dir)
	m := &remountable{start: func() (*mount, error) {
		return startMount(t.mountCmd(ctx, b.repo(t, realTable), b.mnt(t)), b.mnt(t), dir, b.mnt(t)+"-real.log")
	}}
	defer m.stop()
	b.step(t, realMount, []string{realBackup2}, func() (float64, error) { return 0, m.restart() })
	tarSrc := sourcePair(t, realTar, func() (float64, error) { return tarRate(ctx, r.dir, r.bytes2) })
	lsSrc := sourcePair(t, realLsCold, func() (float64, error) { return lsSecs(ctx, r.dir) })
	b.step(t, realTar, []string{realMount}, func() (float64, error) {
		return b.coldMedian(t, m.restart, func() (float64, error) { return tarRate(ctx, dir, r.bytes2) }, tarSrc)
	})
	b.lsStepsNamed(ctx, t, dir, realLsCold, realLsWarm, m.restart, lsSrc, realMount)
}

// paired is the source directory's measurement of a step, taken in turn
// with a tool's runs of it: a cold tar or ls -lR of the source moved by a
// quarter within one bench run (1.15 to 1.92 s for the source's ls -lR
// across runs 28-31), and measured minutes apart from strata's it flipped
// the verdicts of both rows on its own.
type paired struct {
	step string
	f    func() (float64, error)
}

// sourcePair is the source's run of step to take in turn with t's, for
// strata, whose targets compare it with the source; nil for other tools.
func sourcePair(t contender, step string, f func() (float64, error)) *paired {
	if t.name() != "strata" {
		return nil
	}
	return &paired{step: step, f: f}
}

// sourceLs records the source directory's ls -lR steps: the warm one
// after the cold one that a sourcePair took, or both when none did.
func (b *bench) sourceLs(ctx context.Context, dir, cold, warm string) {
	if _, ok := b.res[sourceColumn][cold]; !ok {
		b.lsStepsNamed(ctx, source, dir, cold, warm, nil, nil)
		return
	}
	b.step(source, warm, []string{cold}, func() (float64, error) { return warmAgain(ctx, dir) })
}

// coldMedian runs f after fresh (a mount's restart; nil for a directory)
// -repeat times and returns the median; restic's runs once: its tar and
// ls -lR take 5 to 90 times the source's, and the targets compare
// strata's with the source's. Single runs swing enough to flip a
// verdict alone: the source's own tar measured 201 and 264 MB/s in two
// runs of the bench on one machine.
//
// With pair, each of t's runs follows one of the source's (caches dropped
// before each by f and pair.f themselves; t's last, so that a warm step
// after this one finds t's caches warm), and the source's median is
// recorded as its step.
func (b *bench) coldMedian(t contender, fresh func() error, f func() (float64, error), pair *paired) (float64, error) {
	n := b.cfg.repeat
	if t.name() == "restic" {
		n = 1
	}
	run := func(int) (float64, error) {
		if fresh != nil {
			if err := fresh(); err != nil {
				return 0, err
			}
		}
		return f()
	}
	if pair == nil {
		return medianOf(n, run)
	}
	vs, errs := interleaved(n, []string{source.name(), t.name()}, []func(int) (float64, error){func(int) (float64, error) { return pair.f() }, run})
	b.record(source, pair.step, vs[0], errs[0])
	return vs[1], errs[1]
}

// tarRate times `tar cf - . | wc -c` of dir, cold, in MB/s of content.
func tarRate(ctx context.Context, dir string, bytes int64) (float64, error) {
	d, err := timed(func() error {
		return runCmd(exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", "tar -C \"$0\"/ -cf - . | wc -c >/dev/null", dir))
	})
	return rate(bytes, d), err
}

// lsStepsNamed times ls -lR of dir cold (coldMedian) and warm under the
// given names, the page cache dropped before each cold run.
func (b *bench) lsStepsNamed(ctx context.Context, t contender, dir, cold, warm string, fresh func() error, pair *paired, deps ...string) {
	b.step(t, cold, deps, func() (float64, error) {
		return b.coldMedian(t, fresh, func() (float64, error) { return lsSecs(ctx, dir) }, pair)
	})
	b.step(t, warm, []string{cold}, func() (float64, error) { return warmSecs(ctx, dir) })
}

// lsSecs times ls -lR of dir, caches dropped first.
func lsSecs(ctx context.Context, dir string) (float64, error) {
	d, err := timed(func() error { return lsLR(ctx, dir) })
	return d.Seconds(), err
}

// warmAgain is warmSecs of a directory whose cold run was a while ago:
// one untimed ls -lR first puts the caches where a cold run leaves them.
func warmAgain(ctx context.Context, dir string) (float64, error) {
	if err := lsLR(ctx, dir); err != nil {
		return 0, err
	}
	return warmSecs(ctx, dir)
}

// warmSecs times ls -lR of dir as the caches are.
func warmSecs(ctx context.Context, dir string) (float64, error) {
	start := time.Now()
	err := lsLR(ctx, dir)
	return time.Since(start).Seconds(), err
}

// realReport prints the real tree's table: each row as strata/restic and,
// for the mount, as a fraction of reading the source directory itself.
func (b *bench) realReport(out io.Writer, r *realSet) {
	fmt.Fprintf(out, "\nstrata vs restic %s on a real tree: %s %s (%d files, %s), then %s synced over it (%s)\n\n",
		resticVersion, realPackage, b.cfg.realV1, r.files, human(float64(r.bytes1)), b.cfg.realV2, human(float64(r.bytes2)))
	b.levelLine(out)
	if b.cfg.repeat > 1 {
		fmt.Fprintf(out, "(first backup, no-change re-backup, second backup (each from the no-change version's state), cold tar and cold ls -lR: medians of %d runs; restic's tar and ls -lR once; no-change re-backups of the two tools in turn, and the source's cold tar and ls -lR each in turn with strata's)\n\n", b.cfg.repeat)
	}
	rows := []row{
		b.compare("first backup, MB/s", realBackup1, mbps, atLeast(1.5)),
		b.compare("re-backup, nothing changed, MB/s", realSame, mbps, atLeast(3)),
		b.absolute(b.compare("store growth of a no-change version", realGrowth, human, nil), realGrowth, "<= 64 KiB", func(v float64) bool { return v <= 64<<10 }),
		b.compare("second backup (next release), MB/s", realBackup2, mbps, atLeast(2)),
		b.compare("restore latest, MB/s", realRestore, mbps, atLeast(1.5)),
		b.compare("peak RSS of the first backup", realRSS1, human, atMost(1)),
		b.compare("peak RSS of the restore", realRSSRest, human, atMost(1)),
		b.compare("user CPU of the restore, s", realUserRest, secs, nil),
		b.versusSource("mount: tar cf - of the version, cold, MB/s", realTar, mbps, true, 1.5),
		b.versusSource("mount: ls -lR, cold, s", realLsCold, secs, false, 2),
		b.versusSource("mount: ls -lR, warm, s", realLsWarm, secs, false, 0),
	}
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tstrata\trestic\tstrata/restic\ttarget\tresult")
	for _, r := range rows {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.metric, r.cells[0], r.cells[1], r.ratio, r.target, r.verdict)
	}
	w.Flush()
	fmt.Fprintln(out, "(MB/s rows: strata/restic above 1 is strata faster; RSS and CPU rows: below 1 is strata leaner)")
}

// absolute judges a row by strata's own figure.
func (b *bench) absolute(r row, step, desc string, ok func(float64) bool) row {
	r.target = desc
	x, found := b.res["strata"][step]
	r.verdict = verdict(found && x.err == nil, found && x.err == nil && ok(x.v))
	return r
}

// versusSource is a row of strata against restic that also shows each
// tool's time as a multiple of the same operation on the source
// directory; rates says whether the step's figures are MB/s (else
// seconds). maxTimes, when positive, is strata's target.
func (b *bench) versusSource(metric, step string, f format, rates bool, maxTimes float64) row {
	r := b.compare(metric, step, f, nil)
	src, ok := b.res[sourceColumn][step]
	if !ok || src.err != nil || src.v == 0 {
		r.verdict = "n/a"
		return r
	}
	times := func(tool string) (float64, bool) {
		x, ok := b.res[tool][step]
		if !ok || x.err != nil || x.v == 0 {
			return 0, false
		}
		if rates {
			return src.v / x.v, true
		}
		return x.v / src.v, true
	}
	r.metric += " (source: " + f(src.v) + ")"
	for i, tool := range []string{"strata", "restic"} {
		if x, ok := times(tool); ok {
			r.cells[i] += fmt.Sprintf(" (%.2fx source time)", x)
		}
	}
	if maxTimes > 0 {
		r.target = fmt.Sprintf("<= %.1fx source time", maxTimes)
		x, ok := times("strata")
		r.verdict = verdict(ok, ok && x <= maxTimes)
	}
	return r
}
