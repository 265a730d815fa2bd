package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/sources"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "list what changed in an object between two times",
		UsageText: "strata diff CLUSTER/DB/TABLE T1..T2",
		Description: `T1 and T2 are RFC 3339 times, dates or unix seconds (or "latest"); each
picks the newest version at or before it. A plain date means the END of
that day UTC (2026-11-24 is 2026-11-24T23:59:59Z). T1 later than T2 is
refused (exit 2): the earlier time goes first. Prints "+ path" for files added
or changed in (T1, T2] and "- path" for removed ones; names are escaped as
in the mount.`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return cli.Exit("diff: give CLUSTER/DB/TABLE and T1..T2", exitUsage)
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runDiff(c.Context, e, uiOf(c), c.Args().Get(0), c.Args().Get(1))
		},
	}
}

func runDiff(ctx context.Context, e *engine.Engine, u ui, object, rng string) error {
	d, err := e.Diff(ctx, object, rng)
	if err != nil {
		return err
	}
	if u.json {
		return printJSON(d)
	}
	for _, p := range d.Changed {
		fmt.Println("+", sources.EscapePath(p))
	}
	for _, p := range d.Deleted {
		fmt.Println("-", sources.EscapePath(p))
	}
	return nil
}
