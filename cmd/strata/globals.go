package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/config"
)

// globalFlags are the flags that concern every command: where the store
// is, and how to talk to the user. They are accepted before the command
// (`strata --store S versions`) and after it (`strata versions --store
// S`), as the README promises; only the app-level copy reads the
// environment, so an explicit flag always wins over STRATA_STORE.
func globalFlags(app bool) []cli.Flag {
	env := func(name string) []string {
		if app {
			return []string{name}
		}
		return nil
	}
	return []cli.Flag{
		&cli.StringFlag{Name: "store", Aliases: []string{"s"}, EnvVars: env("STRATA_STORE"), Usage: "the store: a local directory, or an rclone remote such as remote:path or :s3,provider=...:bucket/dir (`LOCATION`)"},
		&cli.StringFlag{Name: "cache-dir", EnvVars: env("STRATA_CACHE"), Usage: "where the local catalog lives (a cache; default ~/.cache/strata)"},
		&cli.BoolFlag{Name: "json", Usage: "print results as JSON for scripts"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress output"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log what happens (--log-level info)"},
		&cli.StringFlag{Name: "log-level", EnvVars: env("STRATA_LOG_LEVEL"), Usage: "log at `LEVEL`: error, warn (the default; the daemon logs at info), info (as --verbose) or debug (also the relational and MongoDB sources' decisions: why a table is read whole, how many rows or documents were unchanged)"},
	}
}

// withGlobals gives every command and subcommand its own copy of the
// global flags, sets up logging once the command's flags are parsed, and
// makes a command that only groups subcommands (backup, index) refuse a
// missing or unknown subcommand with the list of choices and exit 2.
func withGlobals(cmds []*cli.Command) []*cli.Command {
	for _, cmd := range cmds {
		cmd.Flags = append(cmd.Flags, globalFlags(false)...)
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			if err := setupLogging(c); err != nil {
				return err
			}
			if before != nil {
				return before(c)
			}
			return nil
		}
		cmd.OnUsageError = usageError
		if noArguments[cmd.Name] && cmd.Action != nil {
			cmd.Action = refuseArguments(cmd.Action)
		}
		if len(cmd.Subcommands) > 0 {
			if cmd.Action == nil {
				cmd.Action = subcommandMissing(cmd)
			}
			withGlobals(cmd.Subcommands)
		}
	}
	return cmds
}

// subcommandMissing answers `strata backup` or `strata backup frob`.
func subcommandMissing(cmd *cli.Command) cli.ActionFunc {
	return func(c *cli.Context) error {
		var names []string
		for _, s := range cmd.Subcommands {
			if s.Name != "help" {
				names = append(names, s.Name)
			}
		}
		choices := strings.Join(names, ", ")
		if c.NArg() > 0 {
			return cli.Exit(fmt.Sprintf("strata %s: unknown %s %q; choose one of: %s", cmd.Name, subject(cmd), c.Args().First(), choices), exitUsage)
		}
		return cli.Exit(fmt.Sprintf("strata %s: missing %s; choose one of: %s (see strata %s --help)", cmd.Name, subject(cmd), choices, cmd.Name), exitUsage)
	}
}

func subject(cmd *cli.Command) string {
	if cmd.Name == "backup" {
		return "source kind"
	}
	return "subcommand"
}

// commandMissing answers `strata` alone or `strata frobnicate`.
func commandMissing(c *cli.Context) error {
	var names []string
	for _, cmd := range c.App.Commands {
		if !cmd.Hidden && cmd.Name != "help" {
			names = append(names, cmd.Name)
		}
	}
	choices := strings.Join(names, ", ")
	if c.NArg() > 0 {
		return cli.Exit(fmt.Sprintf("strata: unknown command %q; commands: %s (see strata --help)", c.Args().First(), choices), exitUsage)
	}
	return cli.Exit(fmt.Sprintf("strata: missing command; commands: %s (see strata --help)", choices), exitUsage)
}

// global returns the context in which a global flag was given: the
// innermost command that has it set, else the app (which also reads the
// environment).
func global(c *cli.Context, name string) *cli.Context {
	lineage := c.Lineage()
	for _, cc := range lineage {
		if cc.Command != nil && cc.IsSet(name) {
			return cc
		}
	}
	return lineage[len(lineage)-1]
}

func globalString(c *cli.Context, name string) string { return global(c, name).String(name) }
func globalBool(c *cli.Context, name string) bool     { return global(c, name).Bool(name) }

// setupLogging sends logs to stderr, at info level with --verbose (and
// with mount --debug, whose FUSE requests are logged at info level), or
// at --log-level's.
func setupLogging(c *cli.Context) error {
	level := slog.LevelWarn
	if name := globalString(c, "log-level"); name != "" {
		l, err := parseLogLevel(name)
		if err != nil {
			return cli.Exit(fmt.Sprintf("strata: %v", err), exitUsage)
		}
		level = l
	}
	if globalBool(c, "verbose") || (c.Command != nil && c.Command.Name == "mount" && c.Bool("debug")) {
		level = min(level, slog.LevelInfo)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	return nil
}

// parseLogLevel reads --log-level.
func parseLogLevel(name string) (slog.Level, error) {
	switch strings.ToLower(name) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level %q: want error, warn, info or debug", name)
}

// noArguments are the commands that take flags only.
var noArguments = map[string]bool{"init": true, "check": true, "prune": true, "rebuild": true, "run": true, "example-config": true}

// refuseArguments wraps the action of a command that takes no arguments.
func refuseArguments(action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.NArg() > 0 {
			return cli.Exit(fmt.Sprintf("strata %s: takes no arguments, got %q", commandPath(c), c.Args().First()), exitUsage)
		}
		return action(c)
	}
}

// commandPath names the running command with its parents ("daemon run"),
// as the user typed it.
func commandPath(c *cli.Context) string {
	var names []string
	for _, cc := range c.Lineage() {
		if cc.Command != nil && cc.Command.Name != "" && cc.Command.Name != c.App.Name {
			names = append([]string{cc.Command.Name}, names...)
		}
	}
	return strings.Join(names, " ")
}

// durationFlag reads a duration flag with the daemon config's parser, so
// that days ("7d") work on the command line as they do in keep_within;
// an unset flag is 0. A bad or negative value is a usage error naming the
// command, the flag, the value and the format, not the flag package's
// bare "parse error".
func durationFlag(c *cli.Context, name string) (time.Duration, error) {
	s := c.String(name)
	if s == "" {
		return 0, nil
	}
	d, err := config.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, cli.Exit(fmt.Sprintf("strata %s: --%s %q: want a duration such as 90s, 15m, 6h or 7d", commandPath(c), name, s), exitUsage)
	}
	return d, nil
}

// usageError makes a flag the parser refuses (unknown, malformed) exit 2.
func usageError(c *cli.Context, err error, _ bool) error {
	return cli.Exit("strata: "+err.Error(), exitUsage)
}
