package hdfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/stratabackup/strata/sources"
)

// snapPrefix starts the name of every snapshot strata creates, so that a
// run can tell its leftovers from the snapshots people take.
const snapPrefix = "strata."

// leftoverAge is how old a strata snapshot of another host must be before
// a run deletes it as a leftover: no backup runs that long, and a run on
// another host cannot be asked whether it still lives.
const leftoverAge = 24 * time.Hour

// snapshotRoots lists the snapshottable directories the user may see
// (all of them for the superuser, those the user owns otherwise).
func snapshotRoots(ctx context.Context, nn *namenode) ([]string, error) {
	resp, err := nn.call(ctx, "getSnapshottableDirListing", "GetSnapshottableDirListingRequestProto", "GetSnapshottableDirListingResponseProto", nil)
	if err != nil {
		return nil, fmt.Errorf("list snapshottable directories: %w", err)
	}
	if !resp.Has(fieldOf(resp, "snapshottableDirList")) {
		return nil, nil
	}
	l := get(get(resp, "snapshottableDirList").Message(), "snapshottableDirListing").List()
	roots := make([]string, 0, l.Len())
	for i := range l.Len() {
		m := l.Get(i).Message()
		st := asStatus(get(m, "dirStatus").Message())
		parent := string(get(m, "parent_fullpath").Bytes())
		roots = append(roots, path.Join("/", parent, string(st.GetPath())))
	}
	return roots, nil
}

// rootFor returns the deepest of roots that is dir or an ancestor of it,
// "" when none is.
func rootFor(roots []string, dir string) string {
	best := ""
	for _, r := range roots {
		if (r == dir || r == "/" || strings.HasPrefix(dir, r+"/")) && len(r) > len(best) {
			best = r
		}
	}
	return best
}

// snapSeq tells apart the snapshots one process makes in one second.
var snapSeq atomic.Int64

// snapName is a new snapshot's name: strata.<unix>.<pid>.<seq>.<host>.
func snapName(now time.Time) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s%d.%d.%d.%s", snapPrefix, now.Unix(), os.Getpid(), snapSeq.Add(1), host)
}

// leftover reports whether name is a strata snapshot its run no longer
// needs: made on this host by a process that is gone, or older than
// leftoverAge.
func leftover(name string, now time.Time) bool {
	rest, ok := strings.CutPrefix(name, snapPrefix)
	if !ok {
		return false
	}
	parts := strings.SplitN(rest, ".", 4)
	if len(parts) != 4 {
		return false
	}
	unix, err1 := strconv.ParseInt(parts[0], 10, 64)
	pid, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return false
	}
	if now.Sub(time.Unix(unix, 0)) > leftoverAge {
		return true
	}
	host, _ := os.Hostname()
	return parts[3] == host && pid != os.Getpid() && !alive(pid)
}

// alive reports whether process pid exists on this host.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// cleanLeftovers deletes the strata snapshots of root that killed runs
// left; it reports each deletion as a warning event.
func cleanLeftovers(ctx context.Context, c *conn, root string, r sources.Reporter) error {
	list, err := c.c.ReadDir(path.Join(root, ".snapshot"))
	if err != nil {
		return fmt.Errorf("list snapshots of %s: %w", root, err)
	}
	now := time.Now()
	for _, fi := range list {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !leftover(fi.Name(), now) {
			continue
		}
		if err := c.c.DeleteSnapshot(root, fi.Name()); err != nil {
			return fmt.Errorf("delete leftover snapshot %s of %s: %w", fi.Name(), root, err)
		}
		r.Report(sources.Event{Step: fmt.Sprintf("deleted snapshot %s of %s, left by an interrupted backup", fi.Name(), root), Warning: true})
	}
	return nil
}
