package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
)

func indexCommand() *cli.Command {
	return &cli.Command{
		Name:  "index",
		Usage: "manage the local catalog (a cache of the store)",
		Subcommands: []*cli.Command{{
			Name:  "rebuild",
			Usage: "delete the local catalog and recreate it from the store alone",
			Action: func(c *cli.Context) error {
				be, err := backend(c)
				if err != nil {
					return err
				}
				st, err := index.Rebuild(c.Context, be, storeOptions(c, index.Held))
				if err != nil {
					return err
				}
				defer st.Close()
				vs, err := st.AllVersions(c.Context)
				if err != nil {
					return err
				}
				if c.Bool("json") {
					return printJSON(map[string]int{"versions": len(vs)})
				}
				fmt.Printf("catalog rebuilt from %s: %d versions\n", be.Location(), len(vs))
				return nil
			},
		}},
	}
}
