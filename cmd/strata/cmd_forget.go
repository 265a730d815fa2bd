package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
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
			&cli.DurationFlag{Name: "keep-within", Usage: "keep every version younger than `DURATION` (e.g. 72h) before the newest"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would be removed"},
		},
		Action: func(c *cli.Context) error {
			p := index.Policy{Last: c.Int("keep-last"), Hourly: c.Int("keep-hourly"), Daily: c.Int("keep-daily"), Weekly: c.Int("keep-weekly"), Within: c.Duration("keep-within")}
			if p.Empty() {
				return cli.Exit("forget: give at least one --keep-* rule (refusing to forget every version)", exitUsage)
			}
			st, err := openStore(c, index.Held)
			if err != nil {
				return err
			}
			defer st.Close()
			var objs []index.ObjectRef
			for _, a := range c.Args().Slice() {
				o, err := st.ResolveObject(c.Context, a)
				if err != nil {
					return err
				}
				objs = append(objs, o)
			}
			ds, err := st.Forget(c.Context, p, objs, c.Bool("dry-run"))
			if c.Bool("json") {
				if jerr := printJSON(ds); jerr != nil {
					return jerr
				}
				return err
			}
			verb := "removed"
			if c.Bool("dry-run") {
				verb = "would remove"
			}
			for _, d := range ds {
				if d.Keep {
					fmt.Printf("keep    %s/%s  %v\n", d.Version.Object, index.TimeName(d.Version.Time), d.Reasons)
				} else {
					fmt.Printf("%s %s/%s\n", verb, d.Version.Object, index.TimeName(d.Version.Time))
				}
			}
			return err
		},
	}
}
