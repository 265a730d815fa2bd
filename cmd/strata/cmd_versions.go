package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func versionsCommand() *cli.Command {
	return &cli.Command{
		Name:      "versions",
		Usage:     "list versions with their logical, stored and new bytes",
		UsageText: "strata versions [CLUSTER[/DB[/TABLE]]]",
		Description: `logical: what a per-node copy would take (all replicas; for Cassandra
the nodes' SSTables of the table); size: the version's files; stored:
compressed size of the distinct chunks the version uses; new: what this
version added to the store; saving: logical / stored. One prefix at
most; a prefix that matches no version exits 1 (also through --server).`,
		Action: func(c *cli.Context) error {
			if err := oneVersionsPrefix(c); err != nil {
				return err
			}
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runVersions(c.Context, e, uiOf(c), c.Args().First())
		},
	}
}

// oneVersionsPrefix refuses a second argument: it was ignored, so
// `versions demo dup` listed all of demo as if dup had matched.
func oneVersionsPrefix(c *cli.Context) error {
	if c.NArg() > 1 {
		return cli.Exit(fmt.Sprintf("strata versions: takes one CLUSTER[/DB[/TABLE]], got also %q", c.Args().Get(1)), exitUsage)
	}
	return nil
}

func runVersions(ctx context.Context, e *engine.Engine, u ui, prefix string) error {
	vs, err := e.Versions(ctx, prefix)
	if err != nil {
		return err
	}
	if len(vs) == 0 && prefix != "" {
		// Exit 1, as through --server (the API's 404) and as the README
		// says of a name that matches no version.
		return cli.Exit(fmt.Sprintf("versions: no version matches %q (strata versions lists every object)", prefix), exitError)
	}
	if u.json {
		return printJSON(vs)
	}
	fmt.Printf("%-44s %-21s %8s %10s %10s %10s %10s %7s\n", "OBJECT", "VERSION", "FILES", "LOGICAL", "SIZE", "STORED", "NEW", "SAVING")
	for _, v := range vs {
		fmt.Printf("%-44s %-21s %8d %10s %10s %10s %10s %7s\n", v.Object, engine.TimeName(v.Time), v.Stats.Files,
			humanBytes(v.Stats.LogicalBytes), humanBytes(v.Stats.Bytes), humanBytes(v.Stats.StoredBytes), humanBytes(v.Stats.NewBytes),
			saving(v.Stats.LogicalBytes, v.Stats.StoredBytes))
	}
	return nil
}

// saving is logical / stored bytes, "-" when nothing is stored.
func saving(logical, stored int64) string {
	if stored <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", float64(logical)/float64(stored))
}
