// Command strata backs up databases and directories into a deduplicated
// store and shows every version as a read-only mounted tree. It is a thin
// shell: each command parses its flags, calls daemon/engine and prints.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

// Exit codes, mapped only here.
const (
	exitError   = 1
	exitUsage   = 2
	exitDamage  = 3 // check found damage
	exitNoStore = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	stopProfiles := profile()
	gcDefault()
	mallocDefault()
	err := withServer(newApp()).RunContext(ctx, os.Args)
	stopProfiles() // here, not deferred: os.Exit skips deferred calls, and a failed run's profile is wanted too
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "strata:", err)
	os.Exit(exitCode(err))
}

// exitCode maps an error to the process's exit status.
func exitCode(err error) int {
	var ec cli.ExitCoder
	switch {
	case errors.As(err, &ec):
		return ec.ExitCode()
	case errors.Is(err, engine.ErrBadInput):
		return exitUsage
	case errors.Is(err, engine.ErrNoStore):
		return exitNoStore
	case strings.HasPrefix(err.Error(), "Required flag"):
		// urfave/cli reports missing required flags with an unexported
		// error type: this text is all there is to recognise it by.
		return exitUsage
	default:
		return exitError
	}
}

func newApp() *cli.App {
	// -v is --verbose here, so --version has no short form.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	return &cli.App{
		Name:    "strata",
		Version: version(),
		Usage:   "deduplicated backups of databases and directories, browsable as a read-only mount",
		Description: `strata keeps every backup as a version in a content-addressed store
(local directory or any rclone remote) and mounts all versions as
<mount>/<cluster>/<db>/<table>/<time>/, with latest, @at/<time> and
@diff/<t1>..<t2>/. Every command takes the store as --store or STRATA_STORE.`,
		Flags:        globalFlags(true),
		Before:       setupLogging,
		Action:       commandMissing,
		OnUsageError: usageError,
		Commands: withGlobals([]*cli.Command{
			initCommand(), backupCommand(), versionsCommand(), mountCommand(), restoreCommand(),
			diffCommand(), checkCommand(), forgetCommand(), pruneCommand(), indexCommand(),
			daemonCommand(),
		}),
	}
}

// ui is how a command talks to its user: the global output flags.
type ui struct {
	json, quiet bool
}

func uiOf(c *cli.Context) ui { return ui{json: globalBool(c, "json"), quiet: globalBool(c, "quiet")} }

// newEngine returns the engine on the --store location.
func newEngine(c *cli.Context) (*engine.Engine, error) {
	return engine.New(engine.Options{Store: globalString(c, "store"), CacheDir: globalString(c, "cache-dir"), Logger: slog.Default()})
}

// gcDefault collects garbage at 50% heap growth, not Go's 100%, unless
// GOGC says otherwise: a backup's live heap (file list, chunks in flight,
// compressor windows) is a few hundred MB on large trees, and at 100% its
// peak RSS was twice that. Measured on an 80,000-file tree: peak RSS 465
// -> 338 MB for the same CPU time.
func gcDefault() { gcPercent(50) }

// gcRestore collects at 30% for a restore to files: its live heap is
// small (the plan, chunks in flight, an 8 MiB cache) and turned over fast,
// so at 50% the collector's slack was a fifth of its peak. Restoring the
// real tree (78,611 files), two runs each: peak RSS 179-183 -> 160-163 MB,
// user CPU and time the same within noise.
func gcRestore() { gcPercent(30) }

// gcBackup collects at 35% for a backup: on trees of small files its
// live heap is small (about 60 MB for 78,000 files) and the 50% default's
// slack was most of the difference to restic's peak RSS (141 MiB against
// restic's 141 in a bench run). First backups of the real tree (78,669
// files, 1.2 GiB) on new stores, alternating: peak RSS 142-148 ->
// 125-131 MB, for 0.7-1.0 s more user CPU (of 12-15 s) and 0.4-1.2 s
// more time in three paired runs; no-change re-backups (2.2-2.5 s) and a
// 910 MB file (3.8-5.5 s) alike within noise.
func gcBackup() { gcPercent(35) }

// gcMount collects at Go's 100% for a mount: about half its live heap is
// the inodes and records of what was listed (pointers the collector walks
// every cycle), the rest its chunk and window caches, and its garbage is
// decoded chunks and pack windows, so at 50% a cold `tar` of the kernel
// source tree (78,669 files) ran about 27 collections that took a quarter
// of the daemon's CPU, two thirds of it in idle-time mark workers, which
// on two cores run where the tar could have. With 100% and the larger pack-window cache the same tar
// took 9.9-10.3 s against 10.5-11.7 s (75%: 10.3-10.6 s), for a peak RSS
// of 594-624 MB against 399-419 MB (75%: 531-545 MB), four runs each.
func gcMount() { gcPercent(100) }

func gcPercent(p int) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(p)
	}
}

// profile writes a CPU profile to $STRATA_CPUPROFILE, an execution
// trace to $STRATA_TRACE (where the time went while nothing was on a
// CPU: `go tool trace -pprof=sync` and friends) and, every second, a heap
// profile to $STRATA_MEMPROFILE (so the last one shows the heap while the
// command was working, not after), for developers. The returned func
// stops them; main calls it once, on either way out.
func profile() func() {
	var stops []func()
	for _, p := range []struct {
		env   string
		start func(io.Writer) error
		stop  func()
	}{
		{"STRATA_TRACE", trace.Start, trace.Stop},
		{"STRATA_CPUPROFILE", pprof.StartCPUProfile, pprof.StopCPUProfile},
	} {
		f := profileFile(p.env)
		if f == nil {
			continue
		}
		if err := p.start(f); err != nil {
			fmt.Fprintf(os.Stderr, "strata: %s: %v\n", p.env, err)
			f.Close()
			continue
		}
		stops = append(stops, func() { p.stop(); f.Close() })
	}
	if path := os.Getenv("STRATA_MEMPROFILE"); path != "" {
		go func() {
			for range time.Tick(time.Second) {
				if f, err := os.Create(path); err == nil {
					_ = pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
		}()
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}

// profileFile creates the file the variable env names: nil when it is
// unset, or, with a warning, when it cannot be created.
func profileFile(env string) *os.File {
	path := os.Getenv(env)
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "strata: %s: %v\n", env, err)
		return nil
	}
	return f
}

// version names the build: the module version, or the VCS revision when
// built from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = s.Value[:12]
		}
	}
	if v == "" || v == "(devel)" {
		return "devel"
	}
	return v
}
