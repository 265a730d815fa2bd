package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources/mongodb"
)

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a version, a subtree or one file into a directory, or load a version into a database",
		UsageText: "strata restore [--path SUB] CLUSTER/DB/TABLE/<time|latest> TARGET_DIR\n   strata restore --to-mongodb URI [--db NAME] [--collection NAME] [--drop] CLUSTER/DB/COLL/<time|latest|T1..T2>",
		Description: `<time> picks the newest version at or before it (RFC 3339, a date, unix
seconds). Files are written with their original (raw) names, modes, times
and symlinks; existing files are not replaced unless --overwrite. With
--to-mongodb, the version (or the @diff T1..T2) is loaded into a MongoDB
deployment: upserts by _id (safe to rerun), indexes recreated.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "path", Usage: "restore only this file or directory of the version"},
			&cli.BoolFlag{Name: "overwrite", Usage: "replace existing files in TARGET_DIR"},
			&cli.StringFlag{Name: "to-mongodb", Usage: "load into this MongoDB `URI` instead of writing files"},
			&cli.StringFlag{Name: "db", Usage: "target database name (default: the version's)"},
			&cli.StringFlag{Name: "collection", Usage: "target collection name (default: the version's)"},
			&cli.BoolFlag{Name: "drop", Usage: "drop the target collection first instead of merging"},
		},
		Action: func(c *cli.Context) error {
			st, err := openStore(c, index.Snapshot)
			if err != nil {
				return err
			}
			defer st.Close()
			if uri := c.String("to-mongodb"); uri != "" {
				return restoreMongo(c, st, uri)
			}
			if c.NArg() != 2 {
				return cli.Exit(fmt.Sprintf("restore: want VERSION TARGET_DIR, got %d arguments (flags such as --path go before them)", c.NArg()), exitUsage)
			}
			v, err := st.ResolveVersion(c.Context, c.Args().Get(0))
			if err != nil {
				return err
			}
			stat := newStatus(c)
			start := time.Now()
			var total int64
			err = st.Restore(c.Context, v, strings.Trim(c.String("path"), "/"), c.Args().Get(1), index.RestoreOptions{
				Overwrite: c.Bool("overwrite"),
				Progress: func(files, bytes, all int64) {
					total = bytes
					stat.set("%d files, %s of %s restored, %s%s", files, humanBytes(bytes), humanBytes(all), rate(bytes, time.Since(start)), eta(bytes, all, time.Since(start)))
				},
			})
			stat.done()
			if err != nil {
				return err
			}
			if !c.Bool("quiet") && !c.Bool("json") {
				fmt.Printf("restored %s/%s to %s: %s in %.1fs\n", v.Object, index.TimeName(v.Time), c.Args().Get(1), humanBytes(total), time.Since(start).Seconds())
			}
			return nil
		},
	}
}

func restoreMongo(c *cli.Context, st *index.Store, uri string) error {
	spec := c.Args().First()
	i := strings.LastIndexByte(spec, '/')
	if c.NArg() != 1 || i < 0 {
		return cli.Exit("restore --to-mongodb: give one CLUSTER/DB/COLLECTION/<time|latest|T1..T2>", exitUsage)
	}
	var v index.Version
	if t1, t2, isDiff := strings.Cut(spec[i+1:], ".."); isDiff {
		obj, err := st.ResolveObject(c.Context, spec[:i])
		if err != nil {
			return err
		}
		from, err := st.ResolveVersion(c.Context, spec[:i]+"/"+t1)
		if err != nil {
			return err
		}
		to, err := st.ResolveVersion(c.Context, obj.String()+"/"+t2)
		if err != nil {
			return err
		}
		d, err := st.Diff(c.Context, &from, to)
		if err != nil {
			return err
		}
		v = d.Version
	} else {
		var err error
		if v, err = st.ResolveVersion(c.Context, spec); err != nil {
			return err
		}
	}
	db := c.String("db")
	if db == "" {
		db = v.Object.Database
	}
	files, err := st.VersionReader(c.Context, v)
	if err != nil {
		return err
	}
	stats, err := mongodb.Restore(c.Context, uri, files, mongodb.RestoreOptions{Database: db, Collection: c.String("collection"), Drop: c.Bool("drop")})
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return printJSON(stats)
	}
	fmt.Printf("restored %s/%s into %s: %d documents written, %d deleted, %d indexes\n", v.Object, index.TimeName(v.Time), db, stats.Documents, stats.Deleted, stats.Indexes)
	return nil
}
