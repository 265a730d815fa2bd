package main

import (
	"context"
	"fmt"
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
seconds). Files are written with their original (raw) names, modes, times
and symlinks, and as root their owners; existing files are not replaced
unless --overwrite, and all such conflicts are listed before anything is
written. Each file is written under a temporary name (.strata-restore-*)
and renamed into place only when complete and (with --verify, the
default) read back and compared: whatever fails or is interrupted, no
file under its final name holds partial content, and a rerun skips the
files already restored (same size, mtime and mode) and removes the
temporaries a killed run left. With --to-<kind>, the version (or the @diff
T1..T2) is loaded into a live database or cluster of that kind by its
loader, safe to rerun (MongoDB: upserts by _id, indexes recreated; see the
README for each kind); the kind's own options are listed below, each
marked with the --to-<kind> it belongs to.`,
		Flags: flags,
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			for _, kind := range loaders {
				if target := c.String("to-" + kind); target != "" {
					if c.NArg() != 1 {
						return cli.Exit(fmt.Sprintf("restore --to-%s: give one CLUSTER/DB/TABLE/<time|latest|T1..T2>", kind), exitUsage)
					}
					return runLoad(c.Context, e, uiOf(c), engine.LoadRequest{Kind: kind, Target: target, Spec: c.Args().First(),
						Options: sources.LoadOptions{Database: c.String("db"), Table: c.String("collection"), Drop: c.Bool("drop"), Extra: loadExtra(c, kind)}})
				}
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

// restoreFlags are restore's flags: each kind that can load into its
// database adds --to-<kind>, listed in loaders.
func restoreFlags() (flags []cli.Flag, loaders []string) {
	flags = []cli.Flag{
		&cli.StringFlag{Name: "path", Usage: "restore only this file or directory of the version"},
		&cli.BoolFlag{Name: "overwrite", Usage: "replace existing files in TARGET_DIR that differ from the version (without it they are listed and nothing is written)"},
		&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "list what would be written, replaced or conflicts; write nothing"},
		&cli.BoolFlag{Name: "verify", Value: true, Usage: "read each written file back and compare it before giving it its name (--verify=false to skip)"},
	}
	for _, k := range sources.Kinds() {
		if k.Loader != nil {
			loaders = append(loaders, k.Name)
			flags = append(flags, &cli.StringFlag{Name: "to-" + k.Name, Usage: "load into this " + k.Name + " `URI` instead of writing files"})
		}
	}
	flags = append(flags, loadFlags()...)
	return append(flags,
		&cli.StringFlag{Name: "db", Usage: "target database name (default: the version's)"},
		&cli.StringFlag{Name: "collection", Aliases: []string{"table"}, Usage: "target collection or table name (default: the version's)"},
		&cli.BoolFlag{Name: "drop", Usage: "drop the target collection first instead of merging"},
	), loaders
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
