package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// jvmCPU is the CPU time (user+system, seconds) the Cassandra JVMs on
// this machine have used so far, from /proc: on a small machine shared by
// the client and the servers, the servers' share of a step tells what
// bounds it.
func jvmCPU() float64 {
	ents, _ := os.ReadDir("/proc")
	var ticks int64
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(cmdline), "org.apache.cassandra.service.CassandraDaemon") {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: state is the
		// first, utime and stime the 12th and 13th.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 12 {
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			ticks += u + s
		}
	}
	return float64(ticks) / 100 // USER_HZ
}

// waitCompactions waits (up to 15 minutes) until the given nodes have
// no compaction pending, so that compacting what was just written does
// not share the machine with the next timed step.
func (c *cassBench) waitCompactions(ctx context.Context, nodes ...int) {
	start := time.Now()
	for time.Since(start) < 15*time.Minute && ctx.Err() == nil {
		pending := 0
		for _, n := range nodes {
			out, err := exec.CommandContext(ctx, "bash", filepath.Join(c.cfg.repoRoot, "integration", "cassandra", "nodetool.sh"),
				strconv.Itoa(n), "compactionstats").Output()
			if err != nil {
				logf("cassandra: nodetool compactionstats on node %d: %v", n, err)
				return
			}
			for _, l := range strings.Split(string(out), "\n") {
				if f := strings.Fields(l); len(f) == 3 && f[0] == "pending" && f[1] == "tasks" {
					p, _ := strconv.Atoi(f[2])
					pending += p
				}
			}
		}
		if pending == 0 {
			logf("cassandra: no compaction pending (waited %s)", time.Since(start).Round(time.Second))
			return
		}
		logf("cassandra: %d compactions pending", pending)
		time.Sleep(30 * time.Second)
	}
}

// profiled sets STRATA_CPUPROFILE for a strata command of a step when
// STRATA_BENCH_PROFILE names a directory.
func profiled(cmd *exec.Cmd, step string) *exec.Cmd {
	if dir := os.Getenv("STRATA_BENCH_PROFILE"); dir != "" {
		cmd.Env = append(os.Environ(), "STRATA_CPUPROFILE="+filepath.Join(dir, "cassandra-"+step+".prof"))
	}
	return cmd
}
