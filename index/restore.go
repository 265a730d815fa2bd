package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/stratabackup/strata/sources"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Overwrite allows writing over existing files in the target.
	Overwrite bool
	// Progress is called after each file with the files and bytes done
	// and the total bytes to restore.
	Progress func(files, bytes, total int64)
	Workers  int
}

// Restore writes the subtree at path of v ("" for the whole version, or one
// file) into target, with raw names, modes, times and symlinks, and, when
// running as root, the recorded owners (see owners). It restores into a
// fresh target or, with Overwrite, over existing files; it never deletes
// anything in target. Owners that could not be applied do not stop the
// restore (tar goes on too): the files are all written, then Restore
// returns an error saying which owners are missing.
func (s *Store) Restore(ctx context.Context, v Version, path, target string, opts RestoreOptions) error {
	root, err := s.Lookup(ctx, v, path)
	if err != nil {
		return err
	}
	var files []File
	if root.Type == sources.TypeDir {
		if err := s.Walk(ctx, v, path, func(f File) error { files = append(files, f); return nil }); err != nil {
			return err
		}
	} else {
		files = []File{root}
	}
	rel := func(p string) string {
		if path == "" {
			return p
		}
		if p == path {
			return filepath.Base(p)
		}
		return p[len(path)+1:]
	}
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("restore: create %s: %w", target, err)
	}
	// Directories first, then files in parallel, then directory owners,
	// modes and times deepest first (writing files would change the
	// times).
	var dirs []File
	for _, f := range files {
		if f.Type == sources.TypeDir {
			dirs = append(dirs, f)
			if err := os.MkdirAll(filepath.Join(target, rel(f.Path)), 0o700); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
	own := newOwners()
	if err := s.restoreFiles(ctx, files, func(f File) string { return filepath.Join(target, rel(f.Path)) }, own, opts); err != nil {
		return err
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i].Path) > len(dirs[j].Path) })
	if root.Type == sources.TypeDir && path == "" {
		dirs = append(dirs, root)
	}
	for _, d := range dirs {
		dst := filepath.Join(target, rel(d.Path))
		if d.Path == "" {
			dst = target
		}
		if err := finishDir(d, dst, own); err != nil {
			return err
		}
	}
	return own.err()
}

// restoreFiles writes every file and symlink of files (directories are
// left to the caller) to dst(f), several at a time.
func (s *Store) restoreFiles(ctx context.Context, files []File, dst func(File) string, own *owners, opts RestoreOptions) error {
	workers := opts.Workers
	if workers <= 0 {
		workers = 2 * runtime.GOMAXPROCS(0)
	}
	var nFiles, nBytes atomic.Int64
	var total int64
	for _, f := range files {
		total += f.Size
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for _, f := range files {
		if f.Type == sources.TypeDir {
			continue
		}
		g.Go(func() error {
			if err := s.restoreOne(gctx, f, dst(f), own, opts.Overwrite); err != nil {
				return err
			}
			nb := nBytes.Add(f.Size)
			nf := nFiles.Add(1)
			if opts.Progress != nil {
				opts.Progress(nf, nb, total)
			}
			return nil
		})
	}
	return g.Wait()
}

// finishDir gives a restored directory its owner, then its mode (a chown
// clears setuid and setgid bits, so it comes first), then its times.
func finishDir(d File, dst string, own *owners) error {
	own.apply(d, dst, func(uid, gid int) error { return os.Lchown(dst, uid, gid) })
	if err := os.Chmod(dst, os.FileMode(d.Mode&0o777)|modeBits(d.Mode)); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.Chtimes(dst, d.ModTime, d.ModTime); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

func modeBits(m uint32) os.FileMode {
	var fm os.FileMode
	if m&0o4000 != 0 {
		fm |= os.ModeSetuid
	}
	if m&0o2000 != 0 {
		fm |= os.ModeSetgid
	}
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

// restoreOne writes one file or symlink to dst: content, then owner
// (before the mode, whose setuid and setgid bits a chown would clear),
// then mode, then times.
func (s *Store) restoreOne(ctx context.Context, f File, dst string, own *owners, overwrite bool) error {
	if f.Type == sources.TypeSymlink {
		if overwrite {
			_ = os.Remove(dst)
		}
		if err := os.Symlink(f.Target, dst); err != nil {
			return fmt.Errorf("restore %s: %w", f.Path, err)
		}
		own.apply(f, dst, func(uid, gid int) error { return os.Lchown(dst, uid, gid) })
		_ = lutimes(dst, f.ModTime)
		return nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	out, err := os.OpenFile(dst, flags, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("restore %s: %s exists (use --overwrite to replace files)", f.Path, dst)
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", f.Path, err)
	}
	r := s.NewStreamReader(ctx, f)
	_, err = io.CopyBuffer(out, r, make([]byte, 1<<20))
	r.Close()
	if err == nil {
		own.apply(f, dst, out.Chown)
		err = out.Chmod(os.FileMode(f.Mode&0o777) | modeBits(f.Mode))
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chtimes(dst, f.ModTime, f.ModTime)
	}
	if err != nil {
		return fmt.Errorf("restore %s to %s: %w", f.Path, dst, err)
	}
	return nil
}

// owners applies recorded owners to restored entries. Only root may give
// a file away, so as any other user it does nothing: the files are the
// restoring user's, as cp and tar without root leave them. As root, each
// id comes from the recorded name where that name exists on this machine
// (ids differ between machines, names usually mean the same account),
// else from the recorded id, as tar does; what is known of neither is
// left as created. Name lookups (NSS: files, LDAP) are slow, so each name
// is looked up once per restore, misses included.
type owners struct {
	enabled bool
	// lookupUser and lookupGroup return a name's id on this machine.
	lookupUser, lookupGroup func(name string) (int, bool)

	mu     sync.Mutex
	users  map[string]int // name -> id, -1 when the name does not resolve
	groups map[string]int
	failed int   // entries whose owner could not be set
	first  error // the first such failure
}

func newOwners() *owners {
	return &owners{
		enabled:     os.Geteuid() == 0,
		lookupUser:  lookupUserID,
		lookupGroup: lookupGroupID,
		users:       map[string]int{},
		groups:      map[string]int{},
	}
}

func lookupUserID(name string) (int, bool) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(u.Uid)
	return id, err == nil
}

func lookupGroupID(name string) (int, bool) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, false
	}
	id, err := strconv.Atoi(g.Gid)
	return id, err == nil
}

// ids returns the ids to give an entry owned by o, -1 for "leave as is".
func (c *owners) ids(o *sources.Owner) (uid, gid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return localID(c.users, c.lookupUser, o.User, o.UID), localID(c.groups, c.lookupGroup, o.Group, o.GID)
}

// localID is the id of name on this machine if it has one (cached in
// cache), else recorded (-1 when that is unknown too).
func localID(cache map[string]int, lookup func(string) (int, bool), name string, recorded int64) int {
	if name != "" {
		id, ok := cache[name]
		if !ok {
			id = -1
			if n, found := lookup(name); found {
				id = n
			}
			cache[name] = id
		}
		if id >= 0 {
			return id
		}
	}
	if recorded < 0 || recorded > math.MaxInt32 {
		return -1
	}
	return int(recorded)
}

// apply gives dst (restored from f) f's owner through chown, when running
// as root and f has one. A failure (a filesystem without owners, ids a
// user namespace does not map) is counted, not returned, so that the
// restore still writes every file; err reports it at the end.
func (c *owners) apply(f File, dst string, chown func(uid, gid int) error) {
	if !c.enabled || f.Owner == nil {
		return
	}
	uid, gid := c.ids(f.Owner)
	if uid < 0 && gid < 0 {
		return
	}
	if err := chown(uid, gid); err != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.failed == 0 {
			c.first = fmt.Errorf("set owner of %s to %s (uid %d, gid %d): %w", dst, ownerName(f.Owner), uid, gid, err)
		}
		c.failed++
	}
}

// err reports the owners that could not be set, nil if none.
func (c *owners) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failed == 0 {
		return nil
	}
	return fmt.Errorf("restore: every file was written, but the owner of %d entries could not be set; the first: %w", c.failed, c.first)
}

// ownerName shows an owner as user:group, with ids for unknown names.
func ownerName(o *sources.Owner) string {
	name := func(n string, id int64) string {
		switch {
		case n != "":
			return n
		case id >= 0:
			return strconv.FormatInt(id, 10)
		}
		return "?"
	}
	return name(o.User, o.UID) + ":" + name(o.Group, o.GID)
}
