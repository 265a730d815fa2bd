package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/mongodb"
	"github.com/stratabackup/strata/sources/posix"
)

func backupCommand() *cli.Command {
	only := &cli.StringSliceFlag{Name: "only", Usage: "back up only objects matching `DB[/TABLE]` (a shell pattern per level; repeatable); default: all the source discovers"}
	return &cli.Command{
		Name:  "backup",
		Usage: "take a new version of one object or of every object of a source",
		Description: `Each object (a directory, a collection) becomes one version named
<cluster>/<db>/<table>/<time>. Unchanged data is not stored again; with
posix, files unchanged since the previous version (size, mtime, inode,
ctime) are not even read. A version appears only when complete: an
interrupted backup leaves earlier versions intact.`,
		Subcommands: []*cli.Command{
			{
				Name:      "posix",
				Usage:     "back up directories",
				UsageText: "strata backup posix --cluster NAME --db NAME TABLE=DIR [TABLE=DIR...]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "cluster", Required: true, Usage: "cluster name (first level of the tree)"},
					&cli.StringFlag{Name: "db", Required: true, Usage: "database name (second level)"},
					only,
				},
				Action: func(c *cli.Context) error {
					roots := map[string]string{}
					for _, a := range c.Args().Slice() {
						table, dir, ok := strings.Cut(a, "=")
						if !ok || table == "" || dir == "" {
							return cli.Exit(fmt.Sprintf("argument %q: want TABLE=DIR, e.g. home=/home", a), exitUsage)
						}
						roots[table] = dir
					}
					src, err := posix.New(posix.Config{Cluster: c.String("cluster"), Database: c.String("db"), Roots: roots})
					if err != nil {
						return cli.Exit(err.Error(), exitUsage)
					}
					return runBackup(c, src)
				},
			},
			{
				Name:      "mongodb",
				Usage:     "back up MongoDB collections in mongodump's layout",
				UsageText: "strata backup mongodb --cluster NAME --uri mongodb://HOST:PORT/ [--only DB[/COLLECTION]]",
				Description: `One version per collection: <coll>.bson (raw documents in _id order) and
<coll>.metadata.json, as mongodump writes them. Unchanged documents are
stored as references to the previous version, which is read back from
the store for the comparison. Without --only every database except
admin, local and config is backed up, without system.* collections;
naming one literally (--only admin/system.users) backs it up. Literal
database names also spare the server a listDatabases.`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "cluster", Required: true, Usage: "cluster name (first level of the tree)"},
					&cli.StringFlag{Name: "uri", Required: true, EnvVars: []string{"STRATA_MONGODB_URI"}, Usage: "connection string; credentials in it are never logged or stored"},
					only,
				},
				Action: func(c *cli.Context) error {
					dbs, colls := mongoScope(c.StringSlice("only"))
					src, err := mongodb.New(mongodb.Config{URI: c.String("uri"), Cluster: c.String("cluster"), Databases: dbs, Collections: colls})
					if err != nil {
						return cli.Exit(err.Error(), exitUsage)
					}
					return runBackup(c, src)
				},
			},
		},
	}
}

// backupResult is one line of `backup --json`.
type backupResult struct {
	Object  string         `json:"object"`
	Version *index.Version `json:"version,omitempty"`
	Error   string         `json:"error,omitempty"`
}

func runBackup(c *cli.Context, src sources.Source) error {
	objs, err := src.Discover(c.Context)
	if err != nil {
		return err
	}
	objs, err = filterObjects(objs, c.StringSlice("only"))
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return cli.Exit("nothing to back up: the source has no objects matching --only", exitError)
	}
	be, err := backend(c)
	if err != nil {
		return err
	}
	st, err := index.Open(c.Context, be, storeOptions(c, index.Detached))
	if err != nil {
		return err
	}
	defer st.Close()
	var results []backupResult
	failed := 0
	for _, obj := range objs {
		stat := newStatus(c)
		stat.prefix = obj.String() + ": "
		v, err := st.Backup(c.Context, src, obj, index.BackupOptions{
			Progress: func(p index.Progress) { stat.set("%s", progressLine(p)) },
			Waiting:  func(op string) { stat.set("waiting for %s", op) },
		})
		stat.done()
		r := backupResult{Object: obj.String()}
		if err != nil {
			failed++
			r.Error = err.Error()
			if !c.Bool("json") {
				fmt.Printf("%s: FAILED: %v\n", obj, err)
			}
		} else {
			r.Version = &v
			if !c.Bool("json") {
				printVersionLine(v)
			}
		}
		results = append(results, r)
	}
	if c.Bool("json") {
		if err := printJSON(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d backups failed; earlier versions are intact", failed, len(objs)), exitError)
	}
	return nil
}

func progressLine(p index.Progress) string {
	s := fmt.Sprintf("%d files, %s done (%s read), %s new, %s", p.Files, humanBytes(p.DoneBytes), humanBytes(p.ReadBytes), humanBytes(p.NewBytes), rate(p.DoneBytes, p.Elapsed))
	if e := eta(p.DoneBytes, p.ExpectBytes, p.Elapsed); e != "" {
		s += e + " (from the previous version's size)"
	}
	return s
}

func printVersionLine(v index.Version) {
	fmt.Printf("%s/%s  %d files, %s, %s new stored in %.1fs\n", v.Object, index.TimeName(v.Time), v.Stats.Files, humanBytes(v.Stats.Bytes), humanBytes(v.Stats.NewBytes), v.Stats.Seconds)
	for _, w := range v.Warnings {
		fmt.Printf("  warning: %s\n", w)
	}
}

// mongoScope turns --only patterns into the MongoDB source's discovery
// scope. Collections named literally are discovered even when they are
// system ones ("left out unless asked"); when every pattern names its
// database literally, discovery asks only those databases (no
// listDatabases, which can be slow). Patterns are the names as the store
// shows them, so they are unescaped for the server; filterObjects then
// keeps exactly what the patterns match.
func mongoScope(patterns []string) (dbs, colls []string) {
	allDBs := len(patterns) > 0
	for _, p := range patterns {
		dbPat, collPat, hasColl := strings.Cut(p, "/")
		db, ok := literalName(dbPat)
		if !ok {
			allDBs = false
			continue
		}
		if !slices.Contains(dbs, db) {
			dbs = append(dbs, db)
		}
		if coll, ok := literalName(collPat); hasColl && ok {
			colls = append(colls, db+"."+coll)
		}
	}
	if !allDBs {
		dbs = nil
	}
	return dbs, colls
}

// literalName returns the raw name a pattern without wildcards stands for.
func literalName(pattern string) (string, bool) {
	if pattern == "" || strings.ContainsAny(pattern, `*?[\`) {
		return "", false
	}
	return sources.UnescapeName(pattern)
}

// filterObjects keeps objects matching any DB[/TABLE] pattern.
func filterObjects(objs []sources.Object, patterns []string) ([]sources.Object, error) {
	if len(patterns) == 0 {
		return objs, nil
	}
	var out []sources.Object
	for _, o := range objs {
		for _, p := range patterns {
			db, table, hasTable := strings.Cut(p, "/")
			okDB, err := path.Match(db, o.Database)
			if err != nil {
				return nil, cli.Exit(fmt.Sprintf("--only %q: %v", p, err), exitUsage)
			}
			okTable := true
			if hasTable {
				okTable, _ = path.Match(table, o.Table)
			}
			if okDB && okTable {
				out = append(out, o)
				break
			}
		}
	}
	return out, nil
}
