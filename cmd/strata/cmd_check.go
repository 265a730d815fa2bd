package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "read every pack, verify every chunk's hash, and name the versions and files any damage affects",
		Description: `Exit status 3 when damage is found. check reads the whole store: on a
remote backend that is a full download.`,
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runCheck(c.Context, e, uiOf(c))
		},
	}
}

func runCheck(ctx context.Context, e *engine.Engine, u ui) error {
	stat := newStatus(u)
	res, err := e.Check(ctx, func(p engine.CheckProgress) {
		stat.set("checked %d of %d packs%s", p.Packs, p.TotalPacks, eta(p.Packs, p.TotalPacks, p.Elapsed))
	})
	stat.done()
	if err != nil {
		return err
	}
	if u.json {
		if err := printJSON(res); err != nil {
			return err
		}
	} else {
		printCheck(res)
	}
	if len(res.Damage) > 0 {
		return cli.Exit(fmt.Sprintf("check: %d problems (damaged chunks, index files or versions, or manifests referring past a chunk's end)", len(res.Damage)), exitDamage)
	}
	if !u.json {
		fmt.Println("no errors found")
	}
	return nil
}

func printCheck(res engine.CheckResult) {
	fmt.Printf("checked %d packs, %d chunks, %s\n", res.Packs, res.Chunks, humanBytes(res.Bytes))
	for _, d := range res.Damage {
		if d.Chunk != "" {
			fmt.Printf("DAMAGED chunk %s: %s\n", d.Chunk, d.Problem)
		} else { // an index file or version the catalog could not load
			fmt.Printf("DAMAGED %s\n", d.Problem)
		}
		for _, a := range d.Affected {
			fmt.Printf("  affects %s\n", a)
		}
		if len(d.Affected) == 0 {
			fmt.Printf("  no version uses it (prune will remove it)\n")
		}
	}
}
