package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/fs"
	"github.com/stratabackup/strata/index"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "show every version as a read-only filesystem (runs until Ctrl-C or SIGTERM)",
		UsageText: "strata mount [--allow-other] MOUNTPOINT",
		Description: `Tree: MOUNTPOINT/<cluster>/<db>/<table>/<time>/ holds a version's files;
latest -> the newest; @at/<time> -> the newest at or before a time
(RFC 3339, a date, or unix seconds); @diff/<t1>..<t2>/ holds what changed
in (t1, t2] plus .deleted (removed paths, one per line). Writes fail with
EROFS. New versions appear within --refresh.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users read the mount (needs user_allow_other in /etc/fuse.conf unless root)"},
			&cli.DurationFlag{Name: "refresh", Value: 10 * time.Second, Usage: "how often to look for new versions on the store"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request"},
		},
		Action: func(c *cli.Context) error {
			mp := c.Args().First()
			if mp == "" || c.NArg() != 1 {
				return cli.Exit("mount: give exactly one MOUNTPOINT", exitUsage)
			}
			if fi, err := os.Stat(mp); err != nil || !fi.IsDir() {
				return cli.Exit(fmt.Sprintf("mount: %s is not a directory", mp), exitUsage)
			}
			st, err := openStore(c, index.Snapshot)
			if err != nil {
				return err
			}
			defer st.Close()
			m, err := fs.Mount(c.Context, mp, fs.FromStore(st), fs.Options{Debug: c.Bool("debug"), AllowOther: c.Bool("allow-other")})
			if err != nil {
				return err
			}
			if !c.Bool("quiet") {
				fmt.Fprintf(os.Stderr, "mounted %s at %s (read-only); Ctrl-C to unmount\n", st.Backend().Location(), mp)
			}
			go refreshLoop(c, st, c.Duration("refresh"))
			unmounted := make(chan struct{})
			go func() { m.Wait(); close(unmounted) }()
			select {
			case <-c.Context.Done():
				if err := m.Unmount(); err != nil {
					return fmt.Errorf("unmount %s: %w (close files open in it, then `umount %s`)", mp, err, mp)
				}
			case <-unmounted:
			}
			return nil
		},
	}
}

func refreshLoop(c *cli.Context, st *index.Store, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.Context.Done():
			return
		case <-t.C:
			if err := st.Refresh(c.Context); err != nil {
				fmt.Fprintf(os.Stderr, "strata mount: refresh: %v\n", err)
			}
		}
	}
}
