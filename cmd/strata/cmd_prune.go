package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "delete data no version references (after forget, or left by interrupted backups)",
		Description: `prune waits while backups run (it takes the store's exclusive lock), so
it never removes what a running backup needs. Packs that are mostly unused
are rewritten with only their used chunks.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "list what prune would remove (each pack to delete or rewrite, temporary file and stale lock) and remove nothing"},
		},
		Action: func(c *cli.Context) error {
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runPrune(c.Context, e, uiOf(c), c.Bool("dry-run"))
		},
	}
}

func runPrune(ctx context.Context, e *engine.Engine, u ui, dryRun bool) error {
	stat := newStatus(u)
	res, err := e.Prune(ctx, dryRun, func(op string) { stat.set("waiting for %s to finish", op) })
	stat.done()
	if err != nil {
		return err
	}
	if u.json {
		return printJSON(res)
	}
	if dryRun {
		fmt.Printf("dry run, nothing removed: %d packs would be deleted, %d rewritten, %s freed, %d chunks kept; %d temporary files of interrupted uploads and %d stale locks would be removed\n",
			res.PacksDeleted, res.PacksRewritten, humanBytes(res.BytesFreed), res.ChunksKept, res.TempRemoved, len(res.StaleLocks))
	} else {
		fmt.Printf("%d packs deleted, %d rewritten, %s freed, %d chunks kept, %d temporary files of interrupted uploads and %d stale locks removed\n",
			res.PacksDeleted, res.PacksRewritten, humanBytes(res.BytesFreed), res.ChunksKept, res.TempRemoved, len(res.StaleLocks))
	}
	for _, name := range res.Deleted {
		fmt.Printf("  delete pack %s\n", name)
	}
	for _, name := range res.Rewritten {
		fmt.Printf("  rewrite pack %s (only its used chunks kept)\n", name)
	}
	for _, name := range res.Temporaries {
		fmt.Printf("  temporary %s\n", name)
	}
	for _, l := range res.StaleLocks {
		fmt.Printf("  stale lock %s of %s, last refreshed %s\n", l.Name, l.Info, l.Time.Format(time.RFC3339))
	}
	return nil
}
