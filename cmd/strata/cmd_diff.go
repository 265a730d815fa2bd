package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
)

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "list what changed in an object between two times",
		UsageText: "strata diff CLUSTER/DB/TABLE T1..T2",
		Description: `T1 and T2 are RFC 3339 times, dates or unix seconds (or "latest"); each
picks the newest version at or before it. Prints "+ path" for files added
or changed in (T1, T2] and "- path" for removed ones; names are escaped as
in the mount.`,
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return cli.Exit("diff: give CLUSTER/DB/TABLE and T1..T2", exitUsage)
			}
			t1, t2, ok := strings.Cut(c.Args().Get(1), "..")
			if !ok {
				return cli.Exit(fmt.Sprintf("diff: %q is not a range T1..T2", c.Args().Get(1)), exitUsage)
			}
			st, err := openStore(c, index.Snapshot)
			if err != nil {
				return err
			}
			defer st.Close()
			obj := c.Args().Get(0)
			to, err := st.ResolveVersion(c.Context, obj+"/"+t2)
			if err != nil {
				return err
			}
			var from *index.Version
			if f, err := st.ResolveVersion(c.Context, obj+"/"+t1); err == nil {
				from = &f
			} else if _, perr := index.ParseTime(t1); perr != nil && t1 != "latest" {
				return err
			}
			d, err := st.Diff(c.Context, from, to)
			if err != nil {
				return err
			}
			var changed []string
			err = st.Walk(c.Context, d.Version, "", func(f index.File) error {
				if f.Type != sources.TypeDir {
					changed = append(changed, f.Path)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(map[string]any{"from": from, "to": to, "changed": nonNil(changed), "deleted": nonNil(d.Deleted)})
			}
			for _, p := range changed {
				fmt.Println("+", sources.EscapePath(p))
			}
			for _, p := range d.Deleted {
				fmt.Println("-", sources.EscapePath(p))
			}
			return nil
		},
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
