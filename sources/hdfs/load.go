package hdfs

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdfs "github.com/colinmarc/hdfs/v2"
	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/sources"
)

// loadWorkers is how many files a load writes at once, over loadConns
// NameNode connections: the client serialises the calls of one
// connection, and writing a small file is mostly NameNode calls (create,
// complete, rename, chmod, chown, setTimes).
const (
	loadWorkers = 16
	loadConns   = 4
)

// tmpSeq tells apart the temporary names of one process.
var tmpSeq atomic.Int64

// loader is the Loader of `strata restore --to-hdfs hdfs://HOST:PORT/PATH`.
type loader struct{}

// LoadStats says what a load did.
type LoadStats struct {
	Files, Skipped, Dirs, Symlinks int64
	Bytes                          int64
	// OwnersSkipped counts entries whose owner could not be set (the
	// user is not the HDFS superuser); OwnerError is the first refusal.
	OwnersSkipped int64
	OwnerError    string `json:",omitempty"`
}

// Load writes the version (or its --path subtree or file) under the
// target URL's path: files with their permissions, replication, block
// size, times, ACLs and extended attributes, owners when the user may set
// them. A file already there with the same size and mtime is skipped, so
// a rerun after a failure writes only what is missing; files are written
// under a temporary name and renamed, so none is ever half there.
func (loader) Load(ctx context.Context, target string, v sources.VersionReader, opts sources.LoadOptions) (sources.LoadResult, error) {
	nns, dir, err := parseTarget(target)
	if err != nil {
		return sources.LoadResult{}, err
	}
	user := opts.Extra.Get("hdfs-user")
	if user == "" {
		user = os.Getenv("HADOOP_USER_NAME")
	}
	if user == "" {
		user = currentUser()
	}
	entries, err := selectEntries(v.Entries(), strings.Trim(opts.Extra.Get("path"), "/"))
	if err != nil {
		return sources.LoadResult{}, err
	}
	pool := make([]*conn, 0, loadConns)
	defer func() {
		for _, c := range pool {
			c.c.Close()
		}
	}()
	for range loadConns {
		c, err := dial(nns, user)
		if err != nil {
			return sources.LoadResult{}, err
		}
		pool = append(pool, c)
	}
	l := &load{c: pool[0], pool: pool, v: v, dir: dir, entries: entries}
	if err := l.run(ctx); err != nil {
		return sources.LoadResult{Stats: l.stats()}, fmt.Errorf("restore into %s: %w", target, err)
	}
	st := l.stats()
	sum := fmt.Sprintf("%d files written (%d bytes), %d already there, %d directories, %d symlinks", st.Files, st.Bytes, st.Skipped, st.Dirs, st.Symlinks)
	if st.OwnersSkipped > 0 {
		sum += fmt.Sprintf("; owners of %d entries not set (%s)", st.OwnersSkipped, st.OwnerError)
	}
	return sources.LoadResult{Summary: sum, Stats: st}, nil
}

// parseTarget reads hdfs://HOST:PORT[,HOST:PORT]/PATH.
func parseTarget(target string) ([]string, string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "hdfs" || u.Host == "" {
		return nil, "", fmt.Errorf("--to-hdfs %q: want hdfs://HOST:PORT/PATH", target)
	}
	if u.User != nil {
		return nil, "", fmt.Errorf("--to-hdfs: give the user with --hdfs-user, not in the URL")
	}
	p := path.Clean("/" + u.Path)
	if p == "/" {
		return nil, "", fmt.Errorf("--to-hdfs %s: give the target directory's path, e.g. hdfs://%s/restored", target, u.Host)
	}
	return strings.Split(u.Host, ","), p, nil
}

// mapped is an entry and the HDFS path it is written to.
type mapped struct {
	e   sources.Entry
	rel string // path under the target directory
}

// selectEntries picks the entries of sub (all when ""), named relative to
// sub's parent, so that --path logs/2024 becomes TARGET/2024.
func selectEntries(all []sources.Entry, sub string) ([]mapped, error) {
	parent := path.Dir(sub)
	var out []mapped
	for _, e := range all {
		if sub != "" && e.Path != sub && !strings.HasPrefix(e.Path, sub+"/") {
			continue
		}
		rel := e.Path
		if sub != "" && parent != "." {
			rel = strings.TrimPrefix(e.Path, parent+"/")
		}
		out = append(out, mapped{e: e, rel: rel})
	}
	if sub != "" && len(out) == 0 {
		return nil, fmt.Errorf("--path %s: no such file or directory in the version", sub)
	}
	return out, nil
}

// load is one Load.
type load struct {
	c       *conn   // for directories
	pool    []*conn // files and symlinks, round robin
	v       sources.VersionReader
	dir     string
	entries []mapped
	there   map[string]fs.FileInfo // regular files in the target directories before the load

	files, skipped, dirs, symlinks, bytes, ownersSkipped atomic.Int64
	ownerOnce                                            sync.Once
	ownerErr                                             string
	noOwners                                             atomic.Bool
}

func (l *load) stats() LoadStats {
	return LoadStats{Files: l.files.Load(), Skipped: l.skipped.Load(), Dirs: l.dirs.Load(), Symlinks: l.symlinks.Load(), Bytes: l.bytes.Load(), OwnersSkipped: l.ownersSkipped.Load(), OwnerError: l.ownerErr}
}

// run makes the directories, writes files and symlinks in parallel, then
// gives directories their metadata, deepest first, so that writing their
// children does not change their mtime afterwards.
func (l *load) run(ctx context.Context) error {
	if err := l.c.c.MkdirAll(l.dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", l.dir, err)
	}
	var dirs []mapped
	for _, m := range l.entries {
		if m.e.Type == sources.TypeDir {
			dirs = append(dirs, m)
			if err := l.c.c.MkdirAll(l.dst(m.rel), 0o755); err != nil {
				return fmt.Errorf("create %s: %w", l.dst(m.rel), err)
			}
		}
	}
	if err := l.listTargets(ctx); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadWorkers)
	n := 0
	for _, m := range l.entries {
		if m.e.Type == sources.TypeDir {
			continue
		}
		c := l.pool[n%len(l.pool)]
		n++
		g.Go(func() error { return l.entry(gctx, c, m) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].rel > dirs[j].rel })
	for _, m := range dirs {
		if err := l.meta(ctx, l.c, m.e, l.dst(m.rel)); err != nil {
			return err
		}
		l.dirs.Add(1)
	}
	return nil
}

func (l *load) dst(rel string) string { return l.dir + "/" + rel }

// listTargets lists the directories files are written to, so that a
// rerun finds the files already there from one listing per directory
// rather than a NameNode call per file.
func (l *load) listTargets(ctx context.Context) error {
	parents := map[string]bool{}
	for _, m := range l.entries {
		if m.e.Type == sources.TypeFile {
			parents[path.Dir(l.dst(m.rel))] = true
		}
	}
	l.there = map[string]fs.FileInfo{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loadWorkers)
	n := 0
	for dir := range parents {
		c := l.pool[n%len(l.pool)]
		n++
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			list, err := c.c.ReadDir(dir)
			if err != nil && !isNotFound(err) {
				return fmt.Errorf("list %s: %w", dir, err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, fi := range list {
				if st, ok := fi.Sys().(*hdfs.FileStatus); ok && int32(st.GetFileType()) == fileTypeFile {
					l.there[dir+"/"+fi.Name()] = fi
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// entry writes one file or symlink.
func (l *load) entry(ctx context.Context, c *conn, m mapped) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dst := l.dst(m.rel)
	if m.e.Type == sources.TypeSymlink {
		if err := l.symlink(ctx, c, m.e, dst); err != nil {
			return err
		}
		l.symlinks.Add(1)
		return nil
	}
	if fi := l.there[dst]; fi != nil && fi.Size() == m.e.Size && fi.ModTime().Equal(m.e.ModTime.Truncate(time.Millisecond)) {
		l.skipped.Add(1)
		return nil
	}
	if err := l.writeFile(ctx, c, m.e, dst); err != nil {
		return err
	}
	l.files.Add(1)
	return l.meta(ctx, c, m.e, dst)
}

// writeFile writes e's content to a temporary name beside dst with e's
// replication and block size, and renames it over dst.
func (l *load) writeFile(ctx context.Context, c *conn, e sources.Entry, dst string) error {
	repl, _ := strconv.Atoi(e.Attrs[attrReplication])
	bs, _ := strconv.ParseInt(e.Attrs[attrBlockSize], 10, 64)
	if repl <= 0 || bs <= 0 {
		d, err := c.c.ServerDefaults()
		if err != nil {
			return fmt.Errorf("read the cluster's defaults: %w", err)
		}
		repl, bs = cmpOr(repl, d.Replication), cmpOr(bs, d.BlockSize)
	}
	tmp := path.Join(path.Dir(dst), ".strata-tmp-"+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+strconv.FormatInt(tmpSeq.Add(1), 36))
	w, err := c.c.CreateFile(tmp, repl, bs, fs.FileMode(e.Mode&0o777))
	if err != nil {
		return fmt.Errorf("create %s: %w", dst, err)
	}
	r, err := l.v.Open(ctx, e.Path)
	if err != nil {
		w.Close()
		_ = c.c.Remove(tmp)
		return fmt.Errorf("open %s in the version: %w", e.Path, err)
	}
	n, err := copyContext(ctx, w, r)
	r.Close()
	if err == nil {
		err = closeWriter(ctx, w)
	} else {
		w.Close()
	}
	if err == nil && n != e.Size {
		err = fmt.Errorf("wrote %d bytes, the version holds %d", n, e.Size)
	}
	if err == nil {
		err = c.c.Rename(tmp, dst)
	}
	if err != nil {
		_ = c.c.Remove(tmp)
		return fmt.Errorf("write %s: %w", dst, err)
	}
	l.bytes.Add(n)
	return nil
}

// closeWriter closes w, retrying while the NameNode waits for the last
// block's replicas (hdfs.IsErrReplicating).
func closeWriter(ctx context.Context, w interface{ Close() error }) error {
	delay := 50 * time.Millisecond
	for {
		err := w.Close()
		if err == nil || !isReplicating(err) {
			return err
		}
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return ctx.Err()
		}
		delay = min(2*delay, 2*time.Second)
	}
}

// meta gives dst e's permissions, times, owner, ACL and extended
// attributes.
func (l *load) meta(ctx context.Context, c *conn, e sources.Entry, dst string) error {
	if err := c.c.Chmod(dst, fs.FileMode(e.Mode&0o1777)); err != nil {
		return fmt.Errorf("chmod %s: %w", dst, err)
	}
	l.owner(c, e, dst)
	if acl := e.Attrs[attrACL]; acl != "" {
		if err := setACL(ctx, c.nn, dst, acl); err != nil {
			return err
		}
	}
	for k, v := range e.Attrs {
		if name, ok := strings.CutPrefix(k, attrXAttrPrefix); ok {
			if err := c.c.SetXAttr(dst, name, v); err != nil {
				return fmt.Errorf("set extended attribute %s of %s: %w", name, dst, err)
			}
		}
	}
	atime := e.ModTime
	if ms, err := strconv.ParseInt(e.Attrs[attrAtime], 10, 64); err == nil {
		atime = time.UnixMilli(ms)
	}
	return setTimes(ctx, c.nn, dst, atime, e.ModTime)
}

// owner sets dst's owner and group; the first refusal (not the
// superuser) stops further tries and is reported in the summary.
func (l *load) owner(c *conn, e sources.Entry, dst string) {
	if e.Owner == nil || (e.Owner.User == "" && e.Owner.Group == "") {
		return
	}
	if l.noOwners.Load() {
		l.ownersSkipped.Add(1)
		return
	}
	if err := c.c.Chown(dst, e.Owner.User, e.Owner.Group); err != nil {
		l.ownerOnce.Do(func() { l.ownerErr = err.Error() })
		l.noOwners.Store(true)
		l.ownersSkipped.Add(1)
	}
}

// symlink creates dst -> e.Target, replacing a link to another target.
func (l *load) symlink(ctx context.Context, c *conn, e sources.Entry, dst string) error {
	if cur, err := linkTarget(ctx, c.nn, dst); err == nil {
		if cur == e.Target {
			return nil
		}
		if err := c.c.Remove(dst); err != nil {
			return fmt.Errorf("replace symlink %s: %w", dst, err)
		}
	}
	// HDFS resolves symlinks in setOwner and setTimes, so a link keeps
	// the owner and times it is created with.
	return createSymlink(ctx, c.nn, e.Target, dst)
}

func cmpOr[T int | int64](a, b T) T {
	if a != 0 {
		return a
	}
	return b
}
