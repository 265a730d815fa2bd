package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon"
	"github.com/stratabackup/strata/daemon/api"
	"github.com/stratabackup/strata/daemon/config"
	"github.com/stratabackup/strata/sources"
)

func daemonCommand() *cli.Command {
	configFlag := &cli.StringFlag{Name: "config", Aliases: []string{"c"}, EnvVars: []string{"STRATA_CONFIG"}, Usage: "the daemon's config `FILE` (see `strata daemon example-config`)"}
	cmd := &cli.Command{
		Name:      "daemon",
		Usage:     "run strata as a service: scheduled backups, jobs, REST API, metrics, alerts",
		UsageText: "strata daemon --config FILE\n   strata daemon check-config FILE\n   strata daemon example-config",
		Description: `The daemon backs up what its config's policies say when they say it,
runs restores, retention and checks as jobs (kept in a job log under
state_dir, so jobs a crash interrupted run again), serves the REST API
(/api/openapi.json) and Prometheus metrics (/metrics), and sends alerts
to webhooks. SIGHUP reloads the config without stopping running jobs;
SIGTERM stops it (running jobs run again at the next start). An argument
that is not one of the subcommands is refused with their list (exit 2),
never run as a daemon.`,
		Flags: []cli.Flag{configFlag},
		Subcommands: []*cli.Command{
			{
				Name: "run", Usage: "run the daemon (the default)", Flags: []cli.Flag{configFlag},
				Action: func(c *cli.Context) error { return runDaemon(c.Context, c.String("config"), daemonLogLevel(c)) },
			},
			{
				Name: "check-config", Usage: "validate a config file and exit", ArgsUsage: "FILE",
				Action: func(c *cli.Context) error {
					if c.NArg() > 1 {
						return cli.Exit(fmt.Sprintf("strata daemon check-config: takes one FILE, got also %q", c.Args().Get(1)), exitUsage)
					}
					return checkConfig(c.Args().First())
				},
			},
			{
				Name: "example-config", Usage: "print a commented example config",
				Action: func(c *cli.Context) error { _, err := fmt.Print(config.Example); return err },
			},
		},
	}
	// An argument here is a mistyped subcommand (check-conf), not
	// something to run the daemon with: refused with the choices, so that
	// `strata daemon --config F check-conf F` does not start a daemon.
	cmd.Action = func(c *cli.Context) error {
		if c.NArg() > 0 {
			return subcommandMissing(cmd)(c)
		}
		return runDaemon(c.Context, c.String("config"), daemonLogLevel(c))
	}
	return cmd
}

// checkConfig validates a config file and says what it holds.
func checkConfig(file string) error {
	if file == "" {
		return cli.Exit("check-config: give the config FILE", exitUsage)
	}
	cfg, err := config.Load(file)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	fmt.Printf("%s: ok: %d store(s), %d cluster(s), %d policy(ies), API on %s\n", file, len(cfg.Stores), len(cfg.Clusters), len(cfg.Policies), cfg.API.Listen)
	return nil
}

// daemonLogLevel is info, the service's default, unless --log-level says
// otherwise (setupLogging has checked it).
func daemonLogLevel(c *cli.Context) slog.Level {
	if l, err := parseLogLevel(globalString(c, "log-level")); err == nil {
		return l
	}
	return slog.LevelInfo
}

// runDaemon runs the service until ctx ends (SIGINT, SIGTERM).
func runDaemon(ctx context.Context, file string, level slog.Level) error {
	if file == "" {
		return cli.Exit("daemon: give --config FILE (see `strata daemon example-config`)", exitUsage)
	}
	sources.RaiseForIO() // it runs backups and serves mounts
	cfg, err := config.Load(file)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	d, err := daemon.New(cfg, daemon.Options{Logger: log})
	if err != nil {
		return err
	}
	defer d.Close()
	srv, err := api.New(d, cfg.API)
	if err != nil {
		return cli.Exit(err.Error(), exitUsage)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	apiErr := make(chan error, 1)
	go func() {
		apiErr <- srv.Serve(ctx, cfg.API, func(addr string) {
			scheme := "http"
			if cfg.API.TLSCert != "" {
				scheme = "https"
			}
			fmt.Fprintf(os.Stderr, "strata daemon: API on %s://%s\n", scheme, addr)
		})
	}()
	go reloadOnHUP(ctx, d, file, log)
	runErr := make(chan error, 1)
	go func() { runErr <- d.Run(ctx) }()
	select {
	case err = <-apiErr:
		cancel()
		<-runErr
		return err
	case err = <-runErr:
		return err
	}
}

// reloadOnHUP reloads the config on each SIGHUP; a bad config is refused
// (logged and alerted) and the current one stays.
func reloadOnHUP(ctx context.Context, d *daemon.Daemon, file string, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			cfg, err := config.Load(file)
			if err != nil {
				log.Error("config reload refused", "err", err)
				d.ReloadFailed(err)
				continue
			}
			if cfg.API != d.Config().API || cfg.StateDir != d.Config().StateDir {
				log.Warn("api and state_dir changes take effect at the next start")
			}
			d.Reload(cfg)
		}
	}
}
