package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/sources"
)

func restoreCommand() *cli.Command {
	flags, loaders := restoreFlags()
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a version, a subtree or one file into a directory, or load a version into a database",
		UsageText: "strata restore [--path SUB] [--dry-run] [--overwrite] CLUSTER/DB/TABLE/<time|latest> TARGET_DIR\n   strata restore --to-" + strings.Join(loaders, "|--to-") + " TARGET [--db NAME] [--table NAME] [--drop] [kind options] CLUSTER/DB/TABLE/<time|latest|T1..T2>",
		Description: `<time> picks the newest version at or before it (RFC 3339, a date, unix
seconds); a plain date means the END of that day UTC (2026-11-24 is
2026-11-24T23:59:59Z, that day's last version). In T1..T2, T1 must not be
later than T2. Files are written with their original (raw) names, modes, times
and symlinks, and as root their owners; existing files are not replaced
unless --overwrite, and all such conflicts are listed before anything is
written. Each file is written under a temporary name (.strata-restore-*)
and renamed into place only when complete and (with --verify, the
default) read back and compared: whatever fails or is interrupted, no
file under its final name holds partial content, and a rerun skips the
files already restored (same size, mtime and mode) and removes the
temporaries a killed run left. With --to-<kind>, the version (or the @diff
T1..T2), which must be of that kind, is loaded into a live database or
cluster of that kind by its loader, safe to rerun (MongoDB: upserts by _id, indexes recreated; see the
README for each kind); the kind's own options are listed below, each
marked with the --to-<kind> it belongs to.

A flag the chosen way of restoring does not use is refused (exit 2), never
ignored: --overwrite, --dry-run and --verify are for a restore into a
directory (a load has no dry run); --path for that and --to-hdfs; --db,
--collection and --drop for --to-mongodb, --to-cassandra and the relational
kinds, not --to-hdfs. Through --server (a directory on the daemon's host)
only --path is taken: the daemon never overwrites and always verifies.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			kind, err := restoreMode(c, loaders)
			if err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			if kind != "" {
				if c.NArg() != 1 {
					return cli.Exit(fmt.Sprintf("restore --to-%s: give one CLUSTER/DB/TABLE/<time|latest|T1..T2>", kind), exitUsage)
				}
				return runLoad(c.Context, e, uiOf(c), engine.LoadRequest{Kind: kind, Target: c.String("to-" + kind), Spec: c.Args().First(),
					Options: sources.LoadOptions{Database: c.String("db"), Table: c.String("collection"), Drop: c.Bool("drop"), Extra: loadExtra(c, kind)}})
			}
			if c.NArg() != 2 {
				return cli.Exit(fmt.Sprintf("restore: want VERSION TARGET_DIR, got %d arguments (flags such as --path go before them)", c.NArg()), exitUsage)
			}
			gcRestore()
			return runRestore(c.Context, e, uiOf(c), engine.RestoreRequest{Version: c.Args().Get(0), Target: c.Args().Get(1), Path: c.String("path"),
				Overwrite: c.Bool("overwrite"), DryRun: c.Bool("dry-run"), Verify: c.Bool("verify")})
		},
	}
}

// fileRestoreFlags are the flags a restore into a directory uses.
var fileRestoreFlags = []string{"path", "overwrite", "dry-run", "verify"}

// restoreMode returns the kind a restore loads into ("" for a restore
// into a directory) and refuses, naming it, any flag given that this way
// of restoring does not use: a flag silently ignored is worse than a
// refusal (a --dry-run that loads for real, a --path that loads all).
func restoreMode(c *cli.Context, loaders []string) (string, error) {
	var kinds []string
	for _, k := range loaders {
		if c.String("to-"+k) != "" {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return "", refuseUnused(c, func(name string) bool { return slices.Contains(fileRestoreFlags, name) },
			"restore into a directory: --%s is for a load into a database (--to-KIND); leave it out")
	case 1:
		k, err := sources.LookupKind(kinds[0])
		if err != nil {
			return "", err
		}
		why := "restore --to-" + k.Name + ": the " + k.Name + " loader does not use --%s; leave it out (see the flags marked --to-" + k.Name + " in restore --help)"
		if c.Bool("dry-run") {
			why = "restore --to-" + k.Name + ": --%s: a load into a database has no dry run (it would load for real); leave it out"
		}
		return k.Name, refuseUnused(c, loaderTakes(k), why)
	}
	return "", cli.Exit(fmt.Sprintf("restore: --to-%s and --to-%s: give one target database", kinds[0], kinds[1]), exitUsage)
}

// loaderTakes reports whether kind's loader uses a restore flag: its
// --to-<kind>, the common --db, --collection and --drop it declares, and
// its own LoadFlags.
func loaderTakes(k sources.Kind) func(name string) bool {
	return func(name string) bool {
		switch name {
		case "to-" + k.Name:
			return true
		case "db":
			return k.LoadTakes.Database
		case "collection":
			return k.LoadTakes.Table
		case "drop":
			return k.LoadTakes.Drop
		}
		return slices.ContainsFunc(k.LoadFlags, func(o sources.Option) bool { return o.Name == name })
	}
}

// refuseUnused returns a usage error, why formatted with the flag's name,
// for the first of the command's own flags given on the command line that
// takes says is not used; nil when there is none.
func refuseUnused(c *cli.Context, takes func(name string) bool, why string) error {
	global := map[string]bool{}
	for _, f := range globalFlags(false) {
		global[f.Names()[0]] = true
	}
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		if !global[name] && !takes(name) && givenOnCommandLine(c, f) {
			return cli.Exit(fmt.Sprintf(why, name), exitUsage)
		}
	}
	return nil
}

// givenOnCommandLine reports whether flag f was given on the command
// line. A value that came from the flag's environment variable does not
// count: such a variable is set for every command (HADOOP_USER_NAME for a
// restore into a directory too), so refusing it would refuse what this
// command never asked for.
func givenOnCommandLine(c *cli.Context, f cli.Flag) bool {
	name := f.Names()[0]
	if !c.IsSet(name) {
		return false
	}
	ev, ok := f.(interface{ GetEnvVars() []string })
	if !ok || len(ev.GetEnvVars()) == 0 {
		return true
	}
	value := c.String(name)
	if _, ok := f.(*cli.StringSliceFlag); ok {
		value = strings.Join(c.StringSlice(name), ",")
	}
	for _, env := range ev.GetEnvVars() {
		if v := os.Getenv(env); v != "" && v == value {
			return false
		}
	}
	return true
}

// restoreFlags are restore's flags: each kind that can load into its
// database adds --to-<kind>, listed in loaders.
func restoreFlags() (flags []cli.Flag, loaders []string) {
	flags = []cli.Flag{
		&cli.StringFlag{Name: "path", Usage: "restore only this file or directory of the version: its raw name or the escaped one diff and the mount show (50%25off.txt for 50%off.txt); a name the version holds raw is taken raw"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace existing files in TARGET_DIR that differ from the version (without it they are listed and nothing is written)"},
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "list what would be written, replaced or conflicts; write nothing"},
		&cli.BoolFlag{Name: "verify", Value: true, Usage: "read each written file back and compare it before giving it its name (--verify=false to skip)"},
	}
	for _, k := range sources.Kinds() {
		if k.Loader != nil {
			loaders = append(loaders, k.Name)
			flags = append(flags, &cli.StringFlag{Name: "to-" + k.Name, Usage: loadTargetUsage(k)})
		}
	}
	flags = append(flags, loadFlags()...)
	return append(flags,
		&cli.StringFlag{Name: "db", Usage: "target database name (default: the version's)"},
		&cli.StringFlag{Name: "collection", Aliases: []string{"table"}, Usage: "target collection or table name (default: the version's)"},
		&cli.BoolFlag{Name: "drop", Usage: "drop the target collection first instead of merging"},
	), loaders
}

// loadTargetUsage is the help of --to-<kind>, its label the kind's own
// form of address (H1,H2 for Cassandra, not a URI it does not take).
func loadTargetUsage(k sources.Kind) string {
	target := k.LoadTarget
	if target == "" {
		target = "URI"
	}
	return "load into the " + k.Name + " at `" + target + "` instead of writing files"
}

func runRestore(ctx context.Context, e *engine.Engine, u ui, req engine.RestoreRequest) error {
	stat := newStatus(u)
	start := time.Now()
	if req.DryRun && !u.json {
		req.Plan = func(action, path string) { fmt.Printf("%-8s %s\n", action, path) }
	}
	res, err := e.Restore(ctx, req, func(p engine.RestoreProgress) {
		stat.set("%d files, %s of %s restored, %s%s", p.Files, humanBytes(p.Bytes), humanBytes(p.TotalBytes), rate(p.Bytes, time.Since(start)), eta(p.Bytes, p.TotalBytes, time.Since(start)))
	})
	stat.done()
	if u.json && (err == nil || res.Version.Name != "") {
		if jerr := printJSON(res); jerr != nil && err == nil {
			err = jerr
		}
		return err
	}
	if u.quiet || res.Version.Name == "" || (err != nil && res.Failed == 0) {
		return err
	}
	what := "restored"
	if req.DryRun {
		what = "would restore"
	}
	fmt.Printf("%s %s/%s to %s: %d files (%s), %d already there and equal, %d failed, %d directories; %d verified; %.1fs\n",
		what, res.Version.Object, engine.TimeName(res.Version.Time), req.Target, res.Restored, humanBytes(res.Bytes), res.Skipped, res.Failed, res.Dirs, res.Verified, time.Since(start).Seconds())
	if res.Conflicts > 0 {
		fmt.Printf("%d existing files differ from the version: a restore would refuse them without --overwrite\n", res.Conflicts)
	}
	return err
}

func runLoad(ctx context.Context, e *engine.Engine, u ui, req engine.LoadRequest) error {
	res, err := e.Load(ctx, req)
	if err != nil {
		return err
	}
	if u.json {
		return printJSON(res.Stats)
	}
	fmt.Printf("restored %s/%s into %s: %s\n", res.Version.Object, engine.TimeName(res.Version.Time), res.Database, res.Summary)
	return nil
}

// loadFlags are the flags of every kind's LoadFlags, one per name: kinds
// that declare the same name share its flag.
func loadFlags() []cli.Flag {
	var flags []cli.Flag
	seen := map[string]bool{"path": true, "overwrite": true, "db": true, "collection": true, "table": true, "drop": true}
	for _, k := range sources.Kinds() {
		for _, o := range k.LoadFlags {
			if seen[o.Name] {
				continue
			}
			seen[o.Name] = true
			usage := o.Usage + " (--to-" + k.Name + ")"
			if o.Repeated {
				flags = append(flags, &cli.StringSliceFlag{Name: o.Name, Usage: usage, EnvVars: o.EnvVars})
			} else {
				flags = append(flags, &cli.StringFlag{Name: o.Name, Usage: usage, EnvVars: o.EnvVars})
			}
		}
	}
	return flags
}

// loadExtra collects the given values of kind's LoadFlags.
func loadExtra(c *cli.Context, kind string) sources.Config {
	extra := sources.NewConfig()
	k, err := sources.LookupKind(kind)
	if err != nil {
		return extra
	}
	for _, o := range k.LoadFlags {
		if o.Repeated {
			if v := c.StringSlice(o.Name); len(v) > 0 {
				extra.Set(o.Name, v...)
			}
		} else if v := c.String(o.Name); v != "" {
			extra.Set(o.Name, v)
		}
	}
	return extra
}
