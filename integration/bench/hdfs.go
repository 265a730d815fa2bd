package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
)

// The HDFS part (-hdfs-size, off by default; needs
// `integration/servers.sh up hdfs`): strata's first and second backup of
// a generated tree in the harness's HDFS against what users do today,
// `hadoop fs -get` (FsShell from the harness's jars) followed by a restic
// backup of the copy. Targets: the first strata backup at least as fast
// as -get alone; the second (1% of the files appended to, 1% rewritten)
// at least 10x faster than -get plus restic.
const (
	hdfsNamenode = "127.0.0.1:9000"
	hdfsBenchDir = "/strata-snap/bench" // snapshottable, as a production tree would be
)

// hdfsFile is one file of the HDFS tree.
type hdfsFile struct {
	rel  string
	size int64
}

// hdfsBench holds the HDFS part's state and figures.
type hdfsBench struct {
	cfg    config
	bin    string
	restic string
	dir    string // run directory
	tree   string // HDFS directory
	files  []hdfsFile
	c      *hdfs.Client
	levels []string           // strata's compression levels: one store each
	secs   map[string]float64 // step -> seconds
	cpu    map[string]float64 // step -> user+sys seconds of its command
	jvm    map[string]float64 // step -> CPU seconds of the HDFS JVM (NameNode and DataNodes) during it
	load   map[string]string  // step -> 1-minute load average at its end
	errs   []string
}

// hdfsSpec is the tree: 64 MiB text files up to size, plus 1,000 files
// of 64 KiB.
func hdfsSpec(size int64) []hdfsFile {
	var fs []hdfsFile
	for i := 0; i < 1000; i++ {
		fs = append(fs, hdfsFile{rel: fmt.Sprintf("small/%02d/s%04d.json", i/100, i), size: 64 << 10})
	}
	rest := size - 1000*(64<<10)
	for i := 0; rest > 0; i++ {
		n := min(rest, 64<<20)
		fs = append(fs, hdfsFile{rel: fmt.Sprintf("large/l%04d.json", i), size: n})
		rest -= n
	}
	return fs
}

func (h *hdfsBench) total() int64 {
	var n int64
	for _, f := range h.files {
		n += f.size
	}
	return n
}

// hdfsPart runs the HDFS part. -get runs before and after the strata
// first backups (one per compression level), and the ratios use the mean
// of the two, so that a load that moves during the run moves both sides.
func (b *bench) hdfsPart(ctx context.Context) *hdfsBench {
	h := &hdfsBench{cfg: b.cfg, dir: filepath.Join(b.runDir, "hdfs"), files: hdfsSpec(b.cfg.hdfsSize), levels: b.cfg.hdfsLevels,
		tree: fmt.Sprintf("%s/tree-%d-%d", hdfsBenchDir, b.cfg.hdfsSize, b.cfg.seed),
		secs: map[string]float64{}, cpu: map[string]float64{}, jvm: map[string]float64{}, load: map[string]string{}}
	for _, t := range b.tools {
		if s, ok := t.tool.(strata); ok && t.setupErr == nil {
			h.bin = s.bin
		}
		if r, ok := t.tool.(restic); ok && t.setupErr == nil {
			h.restic = r.bin
		}
	}
	if err := h.setup(ctx); err != nil {
		h.errs = append(h.errs, "setup: "+err.Error())
		return h
	}
	defer h.c.Close()
	h.step("get1a", func() error { return h.get(ctx) })
	h.strataBackups(ctx, "1")
	h.step("get1b", func() error { return h.get(ctx) })
	h.step("restic1", func() error { return h.resticBackup(ctx) })
	h.step("change", func() error { return h.change(ctx, 1) })
	h.strataBackups(ctx, "2")
	h.step("get2", func() error { return h.get(ctx) })
	h.step("restic2", func() error { return h.resticBackup(ctx) })
	h.step("revert", func() error { return h.change(ctx, 0) })
	return h
}

// strataBackups runs backup n into each level's store.
func (h *hdfsBench) strataBackups(ctx context.Context, n string) {
	for _, l := range h.levels {
		h.step("strata-backup"+n+"-"+l, func() error { return h.strataBackup(ctx, l) })
	}
}

func (h *hdfsBench) step(name string, f func() error) {
	jvm0 := hdfsJVMSecs()
	start := time.Now()
	lastUsage = usage{}
	if err := f(); err != nil {
		h.errs = append(h.errs, name+": "+err.Error())
		logf("hdfs %s: %v", name, err)
		return
	}
	h.secs[name] = time.Since(start).Seconds()
	h.cpu[name] = lastUsage.user + lastUsage.sys
	h.jvm[name] = hdfsJVMSecs() - jvm0
	h.load[name] = loadAvg()
	logf("hdfs %s: %.1fs (CPU %.1fs, HDFS JVM %.1fs, load %s)", name, h.secs[name], h.cpu[name], h.jvm[name], h.load[name])
}

// hdfsJVMSecs is the CPU time the harness's HDFS JVM has used so far, 0
// when it is not found.
func hdfsJVMSecs() float64 {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), "strata.MiniHdfs") {
			continue
		}
		st, err := os.ReadFile(d + "/stat")
		if err != nil {
			return 0
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 14th and 15th of the line, in clock ticks (100/s).
		f := strings.Fields(string(st[strings.LastIndexByte(string(st), ')')+1:]))
		if len(f) < 13 {
			return 0
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		s, _ := strconv.ParseFloat(f[12], 64)
		return (u + s) / 100
	}
	return 0
}

// setup connects, writes the tree once (files of the wrong size again)
// and inits the repositories.
func (h *hdfsBench) setup(ctx context.Context) error {
	if h.bin == "" || h.restic == "" {
		return fmt.Errorf("needs both strata and restic (-tools strata,restic)")
	}
	u, err := user.Current()
	if err != nil {
		return err
	}
	if h.c, err = hdfs.NewClient(hdfs.ClientOptions{Addresses: []string{hdfsNamenode}, User: u.Username}); err != nil {
		return fmt.Errorf("connect to hdfs %s (integration/servers.sh up hdfs): %w", hdfsNamenode, err)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	logf("hdfs: ensuring %d files (%d MB) under %s", len(h.files), h.total()/1e6, h.tree)
	if err := h.each(func(f hdfsFile) error {
		if fi, err := h.c.Stat(h.tree + "/" + f.rel); err == nil && fi.Size() == f.size {
			return nil
		}
		return h.write(f, 0)
	}); err != nil {
		return err
	}
	if err := h.change(ctx, 0); err != nil {
		return err
	}
	for _, l := range h.levels {
		if err := runCmd(h.strataCmd(ctx, l, "init", "--compression", l)); err != nil {
			return err
		}
	}
	return runCmd(h.resticCmd(ctx, "init"))
}

// changed reports whether f is one of the 1% appended (1) or 1%
// rewritten (2) files.
func changed(i int) int {
	switch i % 100 {
	case 7:
		return 1
	case 57:
		return 2
	}
	return 0
}

// change brings the changed files to version v (0: as generated).
func (h *hdfsBench) change(_ context.Context, v int) error {
	var todo []hdfsFile
	kinds := map[string]int{}
	for i, f := range h.files {
		if k := changed(i); k != 0 {
			todo = append(todo, f)
			kinds[f.rel] = k
		}
	}
	return parallelDo(todo, 8, func(f hdfsFile) error {
		if v == 0 || kinds[f.rel] == 2 {
			return h.write(f, v)
		}
		w, err := h.c.Append(h.tree + "/" + f.rel)
		if err != nil {
			return err
		}
		if _, err := io.CopyN(w, stream(h.cfg.seed, f.rel, 9, kindText), max(f.size/100, 4096)); err != nil {
			return err
		}
		return closeHDFS(w)
	})
}

// write writes f's content of version v.
func (h *hdfsBench) write(f hdfsFile, v int) error {
	p := h.tree + "/" + f.rel
	if err := h.c.MkdirAll(path.Dir(p), 0o755); err != nil {
		return err
	}
	_ = h.c.Remove(p)
	w, err := h.c.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.CopyN(w, stream(h.cfg.seed, f.rel, v, kindText), f.size); err != nil {
		return err
	}
	return closeHDFS(w)
}

func closeHDFS(w io.Closer) error {
	for i := 0; ; i++ {
		err := w.Close()
		if err == nil || !hdfs.IsErrReplicating(err) || i > 200 {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *hdfsBench) each(f func(hdfsFile) error) error { return parallelDo(h.files, 8, f) }

// parallelDo runs f on every item, n at once, and returns the first error.
func parallelDo[T any](items []T, n int, f func(T) error) error {
	ch := make(chan T)
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				if err := f(it); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return first
}

func (h *hdfsBench) strataBackup(ctx context.Context, level string) error {
	u, _ := user.Current()
	return runCmd(h.strataCmd(ctx, level, "backup", "hdfs", "--cluster", "bench", "--db", "hdfs",
		"--namenode", hdfsNamenode, "--user", u.Username, "tree="+h.tree))
}

// strataCmd runs strata on the part's store of compression level.
func (h *hdfsBench) strataCmd(ctx context.Context, level string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, h.bin, append([]string{"--quiet"}, args...)...)
	c.Env = append(os.Environ(), "STRATA_STORE="+h.store(level), "STRATA_CACHE="+filepath.Join(h.dir, "strata-cache-"+level))
	return c
}

func (h *hdfsBench) store(level string) string { return filepath.Join(h.dir, "strata-store-"+level) }

// get copies the tree with Hadoop's FsShell into the run directory,
// replacing an earlier copy.
func (h *hdfsBench) get(ctx context.Context) error {
	dst := filepath.Join(h.dir, "copy")
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	jars, err := filepath.Glob(filepath.Join(hdfsJarCache(), "hdfs-3.4.1-*", "lib"))
	if err != nil || len(jars) == 0 {
		return fmt.Errorf("no Hadoop jars under %s (run integration/servers.sh up hdfs once)", hdfsJarCache())
	}
	cmd := exec.CommandContext(ctx, "java", "-Xmx1g", "-cp", h.confDir()+":"+jars[0]+"/*", "org.apache.hadoop.fs.FsShell",
		"-D", "fs.defaultFS=hdfs://"+hdfsNamenode, "-get", h.tree, dst)
	cmd.Env = append(os.Environ(), "HADOOP_ROOT_LOGGER=WARN,console")
	return runCmd(cmd)
}

// confDir is the harness's client configuration (core-site.xml, which
// FsShell insists on finding on its classpath).
func (h *hdfsBench) confDir() string {
	if d := os.Getenv("STRATA_IT_WORK"); d != "" {
		return filepath.Join(d, "hdfs", "conf")
	}
	return filepath.Join(h.cfg.repoRoot, "integration", ".work", "hdfs", "conf")
}

func hdfsJarCache() string {
	if d := os.Getenv("STRATA_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "strata")
}

func (h *hdfsBench) resticCmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, h.restic, args...)
	c.Env = append(os.Environ(), "RESTIC_REPOSITORY="+filepath.Join(h.dir, "restic-repo"), "RESTIC_PASSWORD="+resticPassword,
		"RESTIC_CACHE_DIR="+filepath.Join(h.dir, "restic-cache"))
	return c
}

func (h *hdfsBench) resticBackup(ctx context.Context) error {
	return runCmd(h.resticCmd(ctx, "backup", "--quiet", "--host", "bench", filepath.Join(h.dir, "copy")))
}

// report prints the HDFS part's figures as ratios to the targets, with
// the CPU each side used (what a busy machine shares out) and the load.
func (h *hdfsBench) report(w io.Writer) {
	mb := float64(h.total()) / 1e6
	fmt.Fprintf(w, "\nHDFS: %d files, %.0f MB, from %s\n", len(h.files), mb, h.tree)
	get1, getCPU, getJVM := h.mean("get1a", "get1b")
	fmt.Fprintf(w, "  hadoop fs -get: %.1f s and %.1f s (load %s, %s), CPU %.1f s + HDFS JVM %.1f s; restic %.1f s\n",
		h.secs["get1a"], h.secs["get1b"], h.load["get1a"], h.load["get1b"], getCPU, getJVM, h.secs["restic1"])
	for _, l := range h.levels {
		b1, b2 := "strata-backup1-"+l, "strata-backup2-"+l
		size, _ := diskUsage(h.store(l))
		fmt.Fprintf(w, "  compression %s: store %s after both backups; first backup CPU %.1f s + HDFS JVM %.1f s (load %s)\n",
			l, human(float64(size)), h.cpu[b1], h.jvm[b1], h.load[b1])
		h.row(w, mb, "  first backup vs hadoop fs -get", h.secs[b1], get1, 1)
		h.row(w, mb, "  first backup vs -get + restic", h.secs[b1], get1+h.secs["restic1"], 1)
		h.row(w, mb, "  second backup (2% changed) vs -get + restic", h.secs[b2], h.secs["get2"]+h.secs["restic2"], 10)
	}
	if size, err := diskUsage(filepath.Join(h.dir, "restic-repo")); err == nil {
		fmt.Fprintf(w, "  restic repository: %s after both backups\n", human(float64(size)))
	}
	for _, e := range h.errs {
		fmt.Fprintf(w, "  error: %s\n", strings.TrimSpace(e))
	}
}

// mean is the mean seconds, CPU and JVM CPU of the steps that ran.
func (h *hdfsBench) mean(steps ...string) (secs, cpu, jvm float64) {
	n := 0.0
	for _, s := range steps {
		if h.secs[s] > 0 {
			secs, cpu, jvm, n = secs+h.secs[s], cpu+h.cpu[s], jvm+h.jvm[s], n+1
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	return secs / n, cpu / n, jvm / n
}

func (h *hdfsBench) row(w io.Writer, mb float64, what string, strataSecs, peerSecs, target float64) {
	if strataSecs == 0 || peerSecs == 0 {
		fmt.Fprintf(w, "  %-46s (not measured)\n", what)
		return
	}
	ratio := peerSecs / strataSecs
	verdict := "meets"
	if ratio < target {
		verdict = "MISSES"
	}
	fmt.Fprintf(w, "  %-46s strata %7.1f MB/s  peer %7.1f MB/s  ratio %5.2fx  (target %gx: %s)\n",
		what, mb/strataSecs, mb/peerSecs, ratio, target, verdict)
}
