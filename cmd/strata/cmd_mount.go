package main

import (
	"context"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/sources"
)

func mountCommand() *cli.Command {
	return &cli.Command{
		Name:      "mount",
		Usage:     "show every version as a read-only filesystem (runs until Ctrl-C or SIGTERM)",
		UsageText: "strata mount [--allow-other] MOUNTPOINT",
		Description: `Tree: MOUNTPOINT/<cluster>/<db>/<table>/<time>/ holds a version's files;
latest -> the newest; @at/<time> -> the newest at or before a time
(RFC 3339, unix seconds, or a date: the END of that day UTC); @diff/<t1>..<t2>/ holds what changed
in (t1, t2] plus .deleted (removed paths, one per line). Writes fail with
EROFS. New versions appear within --refresh.`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "allow-other", Usage: "let other users read the mount (needs user_allow_other in /etc/fuse.conf unless root)"},
			&cli.StringFlag{Name: "refresh", Value: "10s", Usage: "how often to look for new versions on the store: a `DURATION` such as 90s, 15m, 6h, 7d"},
			&cli.StringFlag{Name: "busy-poll", Value: "500us", Usage: "after answering a metadata request (not a read), wait this `DURATION` for the next one on a spinning CPU before sleeping: a listing's requests then find the daemon awake instead of paying a wakeup each (costly on virtual machines); 0 turns it off, saving that CPU"},
			&cli.BoolFlag{Name: "debug", Usage: "log every FUSE request"},
		},
		Action: func(c *cli.Context) error {
			mp := c.Args().First()
			if mp == "" || c.NArg() != 1 {
				return cli.Exit("mount: give exactly one MOUNTPOINT", exitUsage)
			}
			refresh, err := durationFlag(c, "refresh")
			if err != nil {
				return err
			}
			if refresh <= 0 {
				return cli.Exit(fmt.Sprintf("strata mount: --refresh %q: want a duration above 0 such as 90s, 15m, 6h, 7d", c.String("refresh")), exitUsage)
			}
			busyPoll, err := durationFlag(c, "busy-poll")
			if err != nil {
				return err
			}
			if busyPoll == 0 {
				busyPoll = -1 // off; the engine's zero is the default
			}
			gcMount()
			sources.RaiseForIO() // reads of packs wait on the disk too
			e, err := newEngine(c)
			if err != nil {
				return err
			}
			defer e.Close()
			return runMount(c.Context, e, uiOf(c), engine.MountRequest{
				Mountpoint: mp, AllowOther: c.Bool("allow-other"), Debug: c.Bool("debug"), Refresh: refresh, BusyPoll: busyPoll,
			})
		},
	}
}

func runMount(ctx context.Context, e *engine.Engine, u ui, req engine.MountRequest) error {
	req.Mounted = func(location string) {
		if !u.quiet {
			fmt.Fprintf(os.Stderr, "mounted %s at %s (read-only); Ctrl-C to unmount\n", location, req.Mountpoint)
		}
	}
	req.RefreshFailed = func(err error) { fmt.Fprintf(os.Stderr, "strata mount: refresh: %v\n", err) }
	return e.Mount(ctx, req)
}
