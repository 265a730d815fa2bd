package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "delete data no version references (after forget, or left by interrupted backups)",
		Description: `prune waits while backups run (it takes the store's exclusive lock), so
it never removes what a running backup needs. Packs that are mostly unused
are rewritten with only their used chunks.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "show what would be freed"},
		},
		Action: func(c *cli.Context) error {
			st, err := openStore(c, index.Detached)
			if err != nil {
				return err
			}
			defer st.Close()
			stat := newStatus(c)
			res, err := st.Prune(c.Context, c.Bool("dry-run"), func(op string) { stat.set("waiting for %s to finish", op) })
			stat.done()
			if err != nil {
				return err
			}
			if c.Bool("json") {
				return printJSON(res)
			}
			fmt.Printf("%d packs deleted, %d rewritten, %s freed, %d chunks kept, %d temporary files of interrupted uploads removed\n", res.PacksDeleted, res.PacksRewritten, humanBytes(res.BytesFreed), res.ChunksKept, res.TempRemoved)
			return nil
		},
	}
}
