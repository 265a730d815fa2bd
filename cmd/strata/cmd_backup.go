package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/sources"
)

func backupCommand() *cli.Command {
	cmd := &cli.Command{
		Name:  "backup",
		Usage: "take a new version of one object or of every object of a source",
		Description: `Each object (a directory, a collection) becomes one version named
<cluster>/<db>/<table>/<time>. Unchanged data is not stored again; with
posix, files unchanged since the previous version (size, mtime, inode,
ctime) are not even read. A version appears only when complete: an
interrupted backup leaves earlier versions intact.`,
	}
	var names []string
	for _, k := range sources.Kinds() {
		cmd.Subcommands = append(cmd.Subcommands, backupKindCommand(k))
		names = append(names, k.Name)
	}
	cmd.UsageText = "strata backup <" + strings.Join(names, "|") + "> --cluster NAME [options] [arguments]\n   (strata backup <kind> --help shows a kind's options)"
	return cmd
}

// backupKindCommand is `strata backup <kind>`, its flags made from the
// kind's options.
func backupKindCommand(k sources.Kind) *cli.Command {
	flags := []cli.Flag{&cli.StringFlag{Name: sources.OptCluster, Required: true, Usage: "cluster name (first level of the tree)"}}
	for _, o := range k.Options {
		if o.Positional {
			continue
		}
		if o.Repeated {
			flags = append(flags, &cli.StringSliceFlag{Name: o.Name, Required: o.Required, EnvVars: o.EnvVars, Usage: o.Usage})
		} else {
			flags = append(flags, &cli.StringFlag{Name: o.Name, Required: o.Required, EnvVars: o.EnvVars, Usage: o.Usage})
		}
	}
	flags = append(flags, &cli.StringSliceFlag{Name: sources.OptOnly, Usage: "back up only objects matching `DB[/TABLE]` (a shell pattern per level; repeatable); default: all the source discovers"})
	return &cli.Command{
		Name: k.Name, Usage: k.Usage, UsageText: k.UsageText, Description: k.Description, Flags: flags,
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			cfg, err := kindConfig(c, k)
			if err != nil {
				return err
			}
			return runBackup(c.Context, e, uiOf(c), engine.BackupRequest{Kind: k.Name, Config: cfg})
		},
	}
}

// kindConfig collects a kind's settings from its flags and arguments;
// arguments to a kind that takes none are an error, not ignored (they
// would otherwise widen the backup to everything the source discovers).
func kindConfig(c *cli.Context, k sources.Kind) (sources.Config, error) {
	if c.NArg() > 0 && !slices.ContainsFunc(k.Options, func(o sources.Option) bool { return o.Positional }) {
		return sources.Config{}, cli.Exit(fmt.Sprintf("backup %s: unexpected argument %q (use --only DB/TABLE to pick objects)", k.Name, c.Args().First()), exitUsage)
	}
	cfg := sources.NewConfig()
	cfg.Set(sources.OptCluster, c.String(sources.OptCluster))
	if only := c.StringSlice(sources.OptOnly); len(only) > 0 {
		cfg.Set(sources.OptOnly, only...)
	}
	for _, o := range k.Options {
		switch {
		case o.Positional:
			if c.NArg() > 0 {
				cfg.Set(o.Name, c.Args().Slice()...)
			}
		case o.Repeated:
			if v := c.StringSlice(o.Name); len(v) > 0 {
				cfg.Set(o.Name, v...)
			}
		case c.String(o.Name) != "":
			cfg.Set(o.Name, c.String(o.Name))
		}
	}
	return cfg, nil
}

func runBackup(ctx context.Context, e *engine.Engine, u ui, req engine.BackupRequest) error {
	gcBackup()
	sources.RaiseForIO()
	stat := newStatus(u)
	res, err := e.Backup(ctx, req, func(ev engine.Event) {
		if ev.Done != nil {
			stat.done()
			printObjectResult(*ev.Done, u)
			return
		}
		showBackupEvent(stat, ev)
	})
	stat.done()
	if err != nil {
		return err
	}
	if u.json {
		if err := printJSON(res.Objects); err != nil {
			return err
		}
	}
	if res.Failed > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d backups failed; earlier versions are intact", res.Failed, len(res.Objects)), exitError)
	}
	return nil
}

// printObjectResult shows one object's outcome as it finishes. Failures
// go to stderr with their reason whatever the output flags (--json also
// carries them in the result's error field); versions go to stdout
// unless --json prints the whole result at the end.
func printObjectResult(r engine.ObjectResult, u ui) {
	if r.Error != "" {
		fmt.Fprintf(os.Stderr, "%s: FAILED: %s\n", r.Object, r.Error)
		return
	}
	if !u.json {
		printVersionLine(*r.Version)
	}
}

// showBackupEvent puts a running backup's state on the status line.
func showBackupEvent(stat *status, ev engine.Event) {
	prefix := ""
	if ev.Object != "" {
		prefix = ev.Object + ": "
	}
	switch {
	case ev.Progress != nil:
		stat.set("%s%s", prefix, progressLine(*ev.Progress))
	case ev.Waiting != "":
		stat.set("%swaiting for %s", prefix, ev.Waiting)
	case ev.Source != nil && ev.Source.Warning:
		stat.set("%swarning: %s", prefix, ev.Source.Step)
	case ev.Source != nil && ev.Source.Total > 0:
		stat.set("%s%s %d/%d", prefix, ev.Source.Step, ev.Source.Done, ev.Source.Total)
	}
}

func progressLine(p engine.Progress) string {
	s := fmt.Sprintf("%d files, %s done (%s read), %s new, %s", p.Files, humanBytes(p.DoneBytes), humanBytes(p.ReadBytes), humanBytes(p.NewBytes), rate(p.DoneBytes, p.Elapsed))
	if e := eta(p.DoneBytes, p.ExpectBytes, p.Elapsed); e != "" {
		s += e + " (from the previous version's size)"
	}
	return s
}

func printVersionLine(v engine.Version) {
	fmt.Printf("%s/%s  %d files, %s, %s new stored in %.1fs\n", v.Object, engine.TimeName(v.Time), v.Stats.Files, humanBytes(v.Stats.Bytes), humanBytes(v.Stats.NewBytes), v.Stats.Seconds)
	for _, w := range v.Warnings {
		fmt.Printf("  warning: %s\n", w)
	}
}
