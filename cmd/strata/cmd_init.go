package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a new, empty store at --store",
		UsageText: "strata --store DIR init",
		Action: func(c *cli.Context) error {
			be, err := backend(c)
			if err != nil {
				return err
			}
			cfg, err := index.Init(c.Context, be)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(cfg)
			}
			fmt.Printf("created store %s at %s\n", cfg.ID, be.Location())
			return nil
		},
	}
}
