// Command strata backs up databases and directories into a deduplicated
// store and shows every version as a read-only mounted tree.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index"
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
	defer profile()()
	err := newApp().RunContext(ctx, os.Args)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "strata:", err)
	var ec cli.ExitCoder
	switch {
	case errors.As(err, &ec):
		os.Exit(ec.ExitCode())
	case errors.Is(err, index.ErrNoStore):
		os.Exit(exitNoStore)
	default:
		os.Exit(exitError)
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
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "store", Aliases: []string{"s"}, EnvVars: []string{"STRATA_STORE"}, Usage: "the store: a local directory, or an rclone remote such as remote:path or :s3,provider=...:bucket/dir (`LOCATION`)"},
			&cli.StringFlag{Name: "cache-dir", EnvVars: []string{"STRATA_CACHE"}, Usage: "where the local catalog lives (a cache; default ~/.cache/strata)"},
			&cli.BoolFlag{Name: "json", Usage: "print results as JSON for scripts"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log what happens"},
		},
		Before: func(c *cli.Context) error {
			level := slog.LevelWarn
			if c.Bool("verbose") {
				level = slog.LevelInfo
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
			return nil
		},
		Commands: []*cli.Command{
			initCommand(), backupCommand(), versionsCommand(), mountCommand(), restoreCommand(),
			diffCommand(), checkCommand(), forgetCommand(), pruneCommand(), indexCommand(),
		},
	}
}

// backend opens the --store location.
func backend(c *cli.Context) (backends.Backend, error) {
	loc := c.String("store")
	if loc == "" {
		return nil, cli.Exit("no store given: use --store DIR (or STRATA_STORE=DIR); `strata init` creates one", exitUsage)
	}
	be, err := backends.Open(c.Context, loc)
	if err != nil {
		return nil, err
	}
	return backends.Retry(be, 5), nil
}

// openStore opens the store in the given catalog mode.
func openStore(c *cli.Context, mode index.Mode) (*index.Store, error) {
	be, err := backend(c)
	if err != nil {
		return nil, err
	}
	return index.Open(c.Context, be, storeOptions(c, mode))
}

func storeOptions(c *cli.Context, mode index.Mode) index.Options {
	return index.Options{CacheDir: c.String("cache-dir"), Mode: mode, Differs: differs()}
}

// profile writes a CPU profile to $STRATA_CPUPROFILE, for developers.
func profile() func() {
	path := os.Getenv("STRATA_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	_ = pprof.StartCPUProfile(f)
	return func() { pprof.StopCPUProfile(); f.Close() }
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
