package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func indexCommand() *cli.Command {
	return &cli.Command{
		Name:  "index",
		Usage: "manage the local catalog (a cache of the store)",
		Subcommands: []*cli.Command{{
			Name:  "rebuild",
			Usage: "delete the local catalog and recreate it from the store alone",
			Action: func(c *cli.Context) error {
				e, err := newEngine(c)
				if err != nil {
					return err
				}
				defer e.Close()
				return runRebuild(c.Context, e, uiOf(c))
			},
		}},
	}
}

func runRebuild(ctx context.Context, e *engine.Engine, u ui) error {
	n, loc, err := e.Rebuild(ctx)
	if err != nil {
		return err
	}
	if u.json {
		return printJSON(map[string]int{"versions": n})
	}
	fmt.Printf("catalog rebuilt from %s: %d versions\n", loc, n)
	return nil
}
