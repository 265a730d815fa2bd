package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
)

func versionsCommand() *cli.Command {
	return &cli.Command{
		Name:      "versions",
		Usage:     "list versions with their logical, stored and new bytes",
		UsageText: "strata versions [CLUSTER[/DB[/TABLE]]]",
		Description: `logical: what a per-node copy would take (all replicas); size: the
version's files; stored: compressed size of the distinct chunks the version
uses; new: what this version added to the store.`,
		Action: func(c *cli.Context) error {
			st, err := openStore(c, index.Snapshot)
			if err != nil {
				return err
			}
			defer st.Close()
			vs, err := st.AllVersions(c.Context)
			if err != nil {
				return err
			}
			prefix := c.Args().First()
			var out []index.Version
			for _, v := range vs {
				if prefix == "" || v.Object.String() == prefix || strings.HasPrefix(v.Object.String(), strings.TrimSuffix(prefix, "/")+"/") {
					out = append(out, v)
				}
			}
			if c.Bool("json") {
				if out == nil {
					out = []index.Version{}
				}
				return printJSON(out)
			}
			fmt.Printf("%-44s %-21s %8s %10s %10s %10s %10s\n", "OBJECT", "VERSION", "FILES", "LOGICAL", "SIZE", "STORED", "NEW")
			for _, v := range out {
				fmt.Printf("%-44s %-21s %8d %10s %10s %10s %10s\n", v.Object, index.TimeName(v.Time), v.Stats.Files,
					humanBytes(v.Stats.LogicalBytes), humanBytes(v.Stats.Bytes), humanBytes(v.Stats.StoredBytes), humanBytes(v.Stats.NewBytes))
			}
			return nil
		},
	}
}
