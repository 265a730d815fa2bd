package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:  "check",
		Usage: "read every pack, verify every chunk's hash, and name the versions and files any damage affects",
		Description: `Exit status 3 when damage is found. check reads the whole store: on a
remote backend that is a full download.`,
		Action: func(c *cli.Context) error {
			st, err := openStore(c, index.Snapshot)
			if err != nil {
				return err
			}
			defer st.Close()
			stat := newStatus(c)
			start := time.Now()
			res, err := st.Check(c.Context, func(done, total int64) {
				stat.set("checked %d of %d packs%s", done, total, eta(done, total, time.Since(start)))
			})
			stat.done()
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if err := printJSON(res); err != nil {
					return err
				}
			} else {
				fmt.Printf("checked %d packs, %d chunks, %s\n", res.Packs, res.Chunks, humanBytes(res.Bytes))
				for _, d := range res.Damage {
					fmt.Printf("DAMAGED chunk %s: %s\n", d.Chunk, d.Problem)
					for _, a := range d.Affected {
						fmt.Printf("  affects %s\n", a)
					}
					if len(d.Affected) == 0 {
						fmt.Printf("  no version uses it (prune will remove it)\n")
					}
				}
			}
			if len(res.Damage) > 0 {
				return cli.Exit(fmt.Sprintf("check: %d problems (damaged chunks, or manifests referring past a chunk's end)", len(res.Damage)), exitDamage)
			}
			if !c.Bool("json") {
				fmt.Println("no errors found")
			}
			return nil
		},
	}
}
