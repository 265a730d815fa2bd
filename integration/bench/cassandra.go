package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// The Cassandra part: strata's backup and restore of one generated table
// on the harness's 3-node cluster (RF=3), side by side with cqlsh's
// COPY TO (from the same cluster) and COPY FROM (into the 1-node restore
// cluster), which is what people use without a backup tool.
const (
	cassKS        = "strata_bench"
	cassTable     = "rows"
	cassStrataKS  = "strata_bench_r" // where strata's restore loads
	cassSSTableKS = "strata_bench_s" // where strata's restore through SSTables loads
	cassCopyKS    = "strata_bench_c" // where COPY FROM loads
	cassCluster   = "bench"
	cassHosts     = "127.0.0.1,127.0.0.2,127.0.0.3"
	cassTarget    = "127.0.0.4"
	cassRowsPerPK = 20
)

// cassBench holds the Cassandra part's state and figures.
type cassBench struct {
	cfg   config
	bin   string // strata
	cqlsh string
	dir   string
	rows  int64
	figs  map[string]float64
	errs  map[string]error
	steps []string
}

// cassPart runs the Cassandra part (started with -cass-size).
func (b *bench) cassPart(ctx context.Context) *cassBench {
	c := &cassBench{cfg: b.cfg, dir: filepath.Join(b.runDir, "cassandra"), rows: b.cfg.cassSize / int64(max(b.cfg.cassRow, 32)),
		figs: map[string]float64{}, errs: map[string]error{}}
	c.step("setup", nil, func() error { return c.setup(ctx) })
	if b.cfg.prepare {
		return c
	}
	// Each strata backup is followed by its peer, so that a run cut
	// short still has one side-by-side pair; each restore step starts on
	// an emptied target whose compactions are done (quietTarget).
	c.step("backup", []string{"setup"}, c.strataBackup(ctx))
	c.step("copy-to", []string{"setup"}, c.copyTo(ctx))
	c.step("restore", []string{"backup"}, func() error { return c.strataRestore(ctx, "restore", cassStrataKS) })
	c.step("restore-sst", []string{"backup"}, func() error { return c.strataRestoreSSTables(ctx) })
	c.step("copy-from", []string{"copy-to"}, c.copyFrom(ctx))
	return c
}

func (c *cassBench) step(name string, deps []string, f func() error) {
	c.steps = append(c.steps, name)
	for _, d := range deps {
		if c.errs[d] != nil {
			c.errs[name] = fmt.Errorf("%w: %s failed", errSkipped, d)
			return
		}
	}
	logf("cassandra %s", name)
	if err := f(); err != nil {
		c.errs[name] = err
		logf("cassandra %s: %v", name, err)
		return
	}
	if c.figs[name+".rows"] > 0 {
		logf("cassandra %s: %.0f rows/s, %.1f MB/s, %.0f s; client CPU %.0f s, Cassandra JVMs' CPU %.0f s; load %s", name,
			c.figs[name+".rows"], c.figs[name+".mbs"], c.figs[name+".secs"], c.figs[name+".cpu"], c.figs[name+".jvm"], loadAvg())
	}
}

// setup builds strata, installs cqlsh, starts both clusters and writes
// (or reuses) the table.
func (c *cassBench) setup(ctx context.Context) error {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	var err error
	if c.bin, err = buildStrata(ctx, c.cfg.repoRoot, c.dir); err != nil {
		return err
	}
	for _, s := range []string{"cassandra", "cassandra-restore"} {
		if err := runCmd(exec.CommandContext(ctx, "bash", filepath.Join(c.cfg.repoRoot, "integration", "servers.sh"), "up", s)); err != nil {
			return err
		}
	}
	out, err := exec.CommandContext(ctx, "bash", filepath.Join(c.cfg.repoRoot, "integration", "cqlsh", "install.sh")).Output()
	if err != nil {
		return fmt.Errorf("install cqlsh: %w", err)
	}
	c.cqlsh = strings.TrimSpace(string(out))
	if err := ensureCassData(ctx, c.rows, max(c.cfg.cassRow, 32), c.cfg.seed); err != nil {
		return err
	}
	c.waitCompactions(ctx, 1, 2, 3)
	return runCmd(c.strata(ctx, "init"))
}

func (c *cassBench) strata(ctx context.Context, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, c.bin, append([]string{"--store", filepath.Join(c.dir, "store"), "--cache-dir", filepath.Join(c.dir, "cache"), "--quiet"}, args...)...)
}

// strataBackup times a backup of the table; MB/s are of the version's CQL.
func (c *cassBench) strataBackup(ctx context.Context) func() error {
	return func() error {
		// LOCAL_ONE, as COPY TO reads at ONE: one replica per range.
		out, d, err := c.run("backup", profiled(c.strata(ctx, "--json", "backup", "cassandra", "--cluster", cassCluster, "--hosts", cassHosts,
			"--only", cassKS+"/"+cassTable, "--consistency", "LOCAL_ONE"), "backup"))
		if err != nil {
			return err
		}
		var res []struct {
			Version struct {
				Stats struct {
					Bytes        int64 `json:"bytes"`
					StoredBytes  int64 `json:"stored_bytes"`
					LogicalBytes int64 `json:"logical_bytes"`
				} `json:"stats"`
			} `json:"version"`
		}
		if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
			return fmt.Errorf("strata backup --json: %v: %s", err, tail(string(out), 300))
		}
		st := res[0].Version.Stats
		c.figs["backup.rows"] = float64(c.rows) / d.Seconds()
		c.figs["backup.mbs"] = rate(st.Bytes, d)
		c.figs["backup.bytes"] = float64(st.Bytes)
		c.figs["backup.stored"] = float64(st.StoredBytes)
		c.figs["backup.logical"] = float64(st.LogicalBytes)
		return nil
	}
}

// quietTarget drops what the restore steps loaded into the 1-node
// cluster and waits for its compactions, so that no step shares the
// machine with the compaction of an earlier one's 1 GiB.
func (c *cassBench) quietTarget(ctx context.Context) error {
	for _, ks := range []string{cassStrataKS, cassCopyKS, cassSSTableKS} {
		if err := c.cql(ctx, cassTarget, "DROP KEYSPACE IF EXISTS "+ks); err != nil {
			return err
		}
	}
	c.waitCompactions(ctx, 4)
	return nil
}

// strataRestore times restore --to-cassandra into keyspace ks of the
// 1-node cluster as step, with the restore flags extra.
func (c *cassBench) strataRestore(ctx context.Context, step, ks string, extra ...string) error {
	if err := c.quietTarget(ctx); err != nil {
		return err
	}
	args := append([]string{"restore", "--to-cassandra", cassTarget, "--db", ks,
		"--replication", "{'class':'SimpleStrategy','replication_factor':1}"}, extra...)
	_, d, err := c.run(step, profiled(c.strata(ctx, append(args, cassCluster+"/"+cassKS+"/"+cassTable+"/latest")...), step))
	if err != nil {
		return err
	}
	c.figs[step+".rows"] = float64(c.rows) / d.Seconds()
	c.figs[step+".mbs"] = rate(int64(c.figs["backup.bytes"]), d)
	return nil
}

// strataRestoreSSTables times restore --to-cassandra --sstable-jars (rows
// written as SSTables by the servers' own jars and streamed).
func (c *cassBench) strataRestoreSSTables(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "bash", filepath.Join(c.cfg.repoRoot, "integration", "cassandra", "jars.sh")).Output()
	if err != nil {
		return fmt.Errorf("integration/cassandra/jars.sh: %w", err)
	}
	return c.strataRestore(ctx, "restore-sst", cassSSTableKS, "--sstable-jars", strings.TrimSpace(string(out)))
}

func (c *cassBench) csv() string { return filepath.Join(c.dir, "rows.csv") }

// copyTo times cqlsh COPY TO of the table; MB/s are of the CSV.
func (c *cassBench) copyTo(ctx context.Context) func() error {
	return func() error {
		os.Remove(c.csv())
		_, d, err := c.run("copy-to", c.cqlCmd(ctx, "127.0.0.1", fmt.Sprintf("COPY %s.%s TO '%s' WITH HEADER = false", cassKS, cassTable, c.csv())))
		if err != nil {
			return err
		}
		fi, err := os.Stat(c.csv())
		if err != nil {
			return err
		}
		c.figs["copy-to.rows"] = float64(c.rows) / d.Seconds()
		c.figs["copy-to.mbs"] = rate(fi.Size(), d)
		return nil
	}
}

// copyFrom times cqlsh COPY FROM of the CSV into the 1-node cluster.
func (c *cassBench) copyFrom(ctx context.Context) func() error {
	return func() error {
		if err := c.quietTarget(ctx); err != nil {
			return err
		}
		setup := "CREATE KEYSPACE " + cassCopyKS +
			" WITH replication = {'class':'SimpleStrategy','replication_factor':1}; CREATE TABLE " + cassCopyKS + "." + cassTable + cassTableDef
		if err := c.cql(ctx, cassTarget, setup); err != nil {
			return err
		}
		fi, err := os.Stat(c.csv())
		if err != nil {
			return err
		}
		_, d, err := c.run("copy-from", c.cqlCmd(ctx, cassTarget, fmt.Sprintf("COPY %s.%s FROM '%s' WITH HEADER = false", cassCopyKS, cassTable, c.csv())))
		if err != nil {
			return err
		}
		c.figs["copy-from.rows"] = float64(c.rows) / d.Seconds()
		c.figs["copy-from.mbs"] = rate(fi.Size(), d)
		return nil
	}
}

// cql runs statements with cqlsh -e.
func (c *cassBench) cql(ctx context.Context, host, stmts string) error {
	return runCmd(c.cqlCmd(ctx, host, stmts))
}

// cqlCmd runs in the run's directory: COPY FROM writes the rows it gave
// up on there (import_<ks>_<table>.err).
func (c *cassBench) cqlCmd(ctx context.Context, host, stmts string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.cqlsh, "--request-timeout=600", "-e", stmts, host)
	cmd.Dir = c.dir
	return cmd
}

// run times the command of a step and records its wall time, its CPU
// time (with its children's: COPY's worker processes) and the Cassandra
// JVMs' CPU time meanwhile; it returns the command's stdout.
func (c *cassBench) run(step string, cmd *exec.Cmd) ([]byte, time.Duration, error) {
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	jvm := jvmCPU()
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	u := usageOf(cmd)
	c.figs[step+".secs"], c.figs[step+".cpu"], c.figs[step+".jvm"] = d.Seconds(), u.user+u.sys, jvmCPU()-jvm
	if err != nil {
		return nil, d, fmt.Errorf("%s: %w: %s", strings.Join(cmd.Args, " "), err, tail(errb.String()+out.String(), 800))
	}
	return out.Bytes(), d, nil
}

// loadAvg is the 1-minute load average, for the log.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// report prints strata against cqlsh COPY.
func (c *cassBench) report(out io.Writer) {
	fmt.Fprintf(out, "\nCassandra (3 nodes, RF=3): strata vs cqlsh COPY; %s.%s, %d rows of %d bytes (~%s of payload); target 5x\n\n",
		cassKS, cassTable, c.rows, max(c.cfg.cassRow, 32), human(float64(c.rows*int64(max(c.cfg.cassRow, 32)))))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "metric\tstrata\tcqlsh COPY\tstrata/COPY")
	for _, r := range [][3]string{
		{"backup (COPY TO), rows/s", "backup.rows", "copy-to.rows"},
		{"backup (COPY TO), MB/s of output", "backup.mbs", "copy-to.mbs"},
		{"restore (COPY FROM), rows/s", "restore.rows", "copy-from.rows"},
		{"restore (COPY FROM), MB/s of input", "restore.mbs", "copy-from.mbs"},
		{"restore --sstable-jars (COPY FROM), rows/s", "restore-sst.rows", "copy-from.rows"},
		{"restore --sstable-jars (COPY FROM), MB/s", "restore-sst.mbs", "copy-from.mbs"},
	} {
		s, p := c.figs[r[1]], c.figs[r[2]]
		ratio := ""
		if s > 0 && p > 0 {
			ratio = ratioText(s / p)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r[0], figText(s, c.errs[strings.Split(r[1], ".")[0]]), figText(p, c.errs[strings.Split(r[2], ".")[0]]), ratio)
	}
	w.Flush()
	fmt.Fprintf(out, "strata stored %s for %s of SSTables on the 3 nodes\n", human(c.figs["backup.stored"]), human(c.figs["backup.logical"]))
	fmt.Fprintln(out, "\nstep: wall s, client CPU s (user+sys, with children), Cassandra JVMs' CPU s")
	for _, s := range c.steps[1:] {
		fmt.Fprintf(out, "  %-11s %6.0f %6.0f %6.0f\n", s, c.figs[s+".secs"], c.figs[s+".cpu"], c.figs[s+".jvm"])
	}
	for _, s := range c.steps {
		if c.errs[s] != nil {
			fmt.Fprintf(out, "  %s: %v\n", s, c.errs[s])
		}
	}
}

func figText(v float64, err error) string {
	if err != nil {
		return "failed"
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
