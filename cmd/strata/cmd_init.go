package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a new, empty store at --store",
		UsageText: "strata --store DIR init",
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runInit(c.Context, e, uiOf(c))
		},
	}
}

func runInit(ctx context.Context, e *engine.Engine, u ui) error {
	cfg, loc, err := e.Init(ctx)
	if err != nil {
		return err
	}
	if u.json {
		return printJSON(cfg)
	}
	fmt.Printf("created store %s at %s\n", cfg.ID, loc)
	return nil
}
