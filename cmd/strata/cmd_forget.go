package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func forgetCommand() *cli.Command {
	return &cli.Command{
		Name:      "forget",
		Usage:     "remove versions that no --keep-* rule keeps (data stays until prune)",
		UsageText: "strata forget [--dry-run] --keep-last N [--keep-daily N ...] [CLUSTER/DB/TABLE...]",
		Description: `Rules apply per object; a version kept by any rule stays. --keep-within
counts back from the object's newest version. Without objects, every
object is considered. Forget only deletes manifests; run prune to free
space.`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "keep-last", Usage: "keep the newest `N` versions"},
			&cli.IntFlag{Name: "keep-hourly", Usage: "keep the newest version of each of the last `N` hours that have one"},
			&cli.IntFlag{Name: "keep-daily", Usage: "keep the newest version of each of the last `N` days that have one"},
			&cli.IntFlag{Name: "keep-weekly", Usage: "keep the newest version of each of the last `N` ISO weeks that have one"},
			&cli.StringFlag{Name: "keep-within", Usage: "keep every version younger than `DURATION` before the newest: 90s, 15m, 6h, 7d (as the daemon's keep_within)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would be removed"},
		},
		Action: func(c *cli.Context) error {
			p, err := forgetPolicy(c)
			if err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runForget(c.Context, e, uiOf(c), p, c.Args().Slice(), c.Bool("dry-run"))
		},
	}
}

// forgetPolicy reads the --keep-* rules, refusing a negative count (it
// would read as "no rule" and end in a message about the missing rule,
// not the bad value).
func forgetPolicy(c *cli.Context) (engine.Policy, error) {
	counts := map[string]int{}
	for _, name := range []string{"keep-last", "keep-hourly", "keep-daily", "keep-weekly"} {
		if counts[name] = c.Int(name); counts[name] < 0 {
			return engine.Policy{}, cli.Exit(fmt.Sprintf("strata forget: --%s %d: want a count of 0 or more", name, counts[name]), exitUsage)
		}
	}
	within, err := durationFlag(c, "keep-within")
	if err != nil {
		return engine.Policy{}, err
	}
	return engine.Policy{Last: counts["keep-last"], Hourly: counts["keep-hourly"], Daily: counts["keep-daily"], Weekly: counts["keep-weekly"], Within: within}, nil
}

func runForget(ctx context.Context, e *engine.Engine, u ui, p engine.Policy, objects []string, dryRun bool) error {
	ds, err := e.Forget(ctx, p, objects, dryRun)
	if u.json {
		if ds == nil && err != nil {
			return err
		}
		if jerr := printJSON(ds); jerr != nil {
			return jerr
		}
		return err
	}
	verb := "removed"
	if dryRun {
		verb = "would remove"
	}
	for _, d := range ds {
		if d.Keep {
			fmt.Printf("keep    %s/%s  %v\n", d.Version.Object, engine.TimeName(d.Version.Time), d.Reasons)
		} else {
			fmt.Printf("%s %s/%s\n", verb, d.Version.Object, engine.TimeName(d.Version.Time))
		}
	}
	return err
}
