package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/stratabackup/strata/daemon/engine"
	"github.com/stratabackup/strata/daemon/joblog"
)

// withServer adds --server to the app: with it, the commands the
// daemon's API can do (versions, backup, restore into a directory,
// check) go through the API of a running `strata daemon` as jobs, and
// the others refuse (they run only where the store is).
func withServer(app *cli.App) *cli.App {
	app.Flags = append(app.Flags,
		&cli.StringFlag{Name: "server", EnvVars: []string{"STRATA_SERVER"}, Usage: "run commands through the API of a strata daemon at `URL` (http://127.0.0.1:7878)"},
		&cli.StringFlag{Name: "server-token-file", EnvVars: []string{"STRATA_SERVER_TOKEN_FILE"}, Usage: "the daemon API's bearer token, read from `FILE`"},
	)
	remote := map[string]cli.ActionFunc{"versions": remoteVersions, "restore": remoteRestore, "check": remoteCheck}
	for _, cmd := range app.Commands {
		switch cmd.Name {
		case "daemon":
			continue
		case "backup":
			for _, sub := range cmd.Subcommands {
				wrapRemote(sub, remoteBackup)
				optionalKindFlags(sub)
			}
		default:
			wrapTree(cmd, remote[cmd.Name])
		}
	}
	return app
}

// wrapTree wraps cmd, or, when it groups subcommands, every command
// below it (index rebuild): each of them would otherwise run locally
// with --server given. A group's own action only answers a missing or
// unknown subcommand and is left alone.
func wrapTree(cmd *cli.Command, remote cli.ActionFunc) {
	if len(cmd.Subcommands) == 0 {
		wrapRemote(cmd, remote)
		return
	}
	for _, sub := range cmd.Subcommands {
		wrapTree(sub, nil)
	}
}

// wrapRemote makes cmd run remote when --server is given (or refuse when
// remote is nil).
func wrapRemote(cmd *cli.Command, remote cli.ActionFunc) {
	local := cmd.Action
	if local == nil {
		return
	}
	cmd.Action = func(c *cli.Context) error {
		if c.String("server") == "" {
			return local(c)
		}
		if remote == nil {
			return cli.Exit(fmt.Sprintf("strata --server: %q runs only where the store is; the daemon's API has no such job", commandPath(c)), exitUsage)
		}
		return remote(c)
	}
}

// optionalKindFlags lets `backup KIND` start without the kind's own
// required flags, which a backup through --server does not use; a local
// backup still gets them checked, by the kind (engine bad input).
func optionalKindFlags(cmd *cli.Command) {
	for _, f := range cmd.Flags {
		switch f := f.(type) {
		case *cli.StringFlag:
			f.Required = f.Required && f.Name == "cluster"
		case *cli.StringSliceFlag:
			f.Required = false
		}
	}
}

// apiClient calls a daemon's API.
type apiClient struct {
	base, token string
}

func newAPIClient(c *cli.Context) (*apiClient, error) {
	a := &apiClient{base: strings.TrimRight(c.String("server"), "/")}
	if f := c.String("server-token-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("server token: %w", err)
		}
		a.token = strings.TrimSpace(string(b))
	}
	return a, nil
}

// do sends a request and decodes a 2xx answer into out; an error answer
// becomes an error naming the field, a 400 a usage error. A 404 (a name
// that matches nothing) exits 1, as the same command does locally.
func (a *apiClient) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return fmt.Errorf("--server %s: %w", a.base, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json") // the API refuses other bodies
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("--server: %w", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		var e struct{ Error, Field string }
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		msg := fmt.Sprintf("server: %s %s: %s", method, path, e.Error)
		if resp.StatusCode == http.StatusBadRequest {
			return cli.Exit(msg, exitUsage)
		}
		return errors.New(msg)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func remoteVersions(c *cli.Context) error {
	if err := oneVersionsPrefix(c); err != nil {
		return err
	}
	a, err := newAPIClient(c)
	if err != nil {
		return err
	}
	var vs []engine.Version
	if err := a.do(c.Context, "GET", "/api/versions?object="+url.QueryEscape(c.Args().First()), nil, &vs); err != nil {
		return err
	}
	if uiOf(c).json {
		return printJSON(vs)
	}
	for _, v := range vs {
		printVersionLine(v)
	}
	return nil
}

// remoteBackup backs up the daemon's configured cluster --cluster (its
// settings are the daemon's; only --only may narrow it).
func remoteBackup(c *cli.Context) error {
	for _, f := range c.Command.Flags {
		if name := f.Names()[0]; name != "cluster" && name != "only" && givenOnCommandLine(c, f) {
			return cli.Exit(fmt.Sprintf("backup --server: --%s: the daemon uses its configured cluster's settings; give only --cluster and --only", name), exitUsage)
		}
	}
	if c.NArg() > 0 {
		return cli.Exit("backup --server: the daemon uses its configured cluster's settings; give no arguments, only --cluster and --only", exitUsage)
	}
	req := map[string]any{"kind": joblog.KindBackup, "cluster": c.String("cluster"), "objects": c.StringSlice("only")}
	return runRemoteJob(c, req)
}

// remoteRestore restores into a directory of the daemon's host. The
// daemon's restore job takes only a version, a directory and a path; it
// never overwrites and always verifies. Any other flag is refused, not
// ignored: a --dry-run passed over would restore for real.
func remoteRestore(c *cli.Context) error {
	takes := func(name string) bool { return name == "path" || (name == "verify" && c.Bool("verify")) }
	if err := refuseUnused(c, takes, "restore --server: --%s: the daemon's restore job does not take it "+
		"(it restores VERSION into a directory of its host, --path only, never overwriting, always verifying; "+
		"it loads only into its configured clusters); run the restore without --server where the store is"); err != nil {
		return err
	}
	if c.NArg() != 2 {
		return cli.Exit("restore --server: want VERSION TARGET_DIR (a directory on the daemon's host)", exitUsage)
	}
	target, err := filepath.Abs(c.Args().Get(1))
	if err != nil {
		return err
	}
	return runRemoteJob(c, map[string]any{"kind": joblog.KindRestore, "version": c.Args().Get(0), "target": target, "path": c.String("path")})
}

func remoteCheck(c *cli.Context) error {
	return runRemoteJob(c, map[string]any{"kind": joblog.KindCheck})
}

// runRemoteJob starts a job, shows its progress until it ends (Ctrl-C
// cancels it) and prints what it made.
func runRemoteJob(c *cli.Context, req map[string]any) error {
	a, err := newAPIClient(c)
	if err != nil {
		return err
	}
	var j joblog.Job
	if err := a.do(c.Context, "POST", "/api/jobs", req, &j); err != nil {
		return err
	}
	u := uiOf(c)
	stat := newStatus(u)
	for !j.State.Final() {
		select {
		case <-c.Context.Done():
			stat.done()
			_ = a.do(context.Background(), "POST", "/api/jobs/"+j.ID+"/cancel", nil, nil)
			return fmt.Errorf("job %s cancelled", j.ID)
		case <-time.After(200 * time.Millisecond):
		}
		if err := a.do(c.Context, "GET", "/api/jobs/"+j.ID, nil, &j); err != nil && c.Context.Err() == nil {
			return err
		}
		p := j.Progress
		stat.set("job %s %s: %s %d items, %s of %s", j.ID, j.State, p.Object, p.Items, humanBytes(p.Bytes), humanBytes(p.TotalBytes))
	}
	stat.done()
	return reportRemoteJob(u, j)
}

func reportRemoteJob(u ui, j joblog.Job) error {
	if u.json {
		if err := printJSON(j); err != nil {
			return err
		}
	} else {
		for _, v := range j.Versions {
			fmt.Printf("%s/%s  (job %s)\n", v.Object, engine.TimeName(v.Time), j.ID)
		}
	}
	switch {
	case j.State == joblog.Succeeded:
		return nil
	case j.Kind == joblog.KindCheck && len(j.Result) > 0:
		return cli.Exit(fmt.Sprintf("job %s: %s", j.ID, j.Error), exitDamage)
	}
	return cli.Exit(fmt.Sprintf("job %s %s: %s", j.ID, j.State, j.Error), exitError)
}
