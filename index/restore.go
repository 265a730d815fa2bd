package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// RestoreOptions tune Restore.
type RestoreOptions struct {
	// Overwrite allows replacing existing files in the target that differ
	// from the version; without it such files are conflicts, all listed
	// before anything is written.
	Overwrite bool
	// DryRun plans the restore and reports it through Plan and the
	// result's counts without writing anything.
	DryRun bool
	// Verify reads each written file back and checks that it holds the
	// bytes that came out of the store (themselves checked against their
	// chunk hashes) before giving it its final name.
	Verify bool
	// Progress is called after each file with the files and bytes done
	// and the total bytes to restore.
	Progress func(files, bytes, total int64)
	// Plan, when set, is told what happens to each entry: "write",
	// "replace" (an existing file that differs, with Overwrite), "skip"
	// (already there and equal) or "conflict".
	Plan    func(action, path string)
	Workers int
}

// RestoreResult counts what a restore did.
type RestoreResult struct {
	// Restored files and symlinks (written, or for a dry run, to write).
	Restored int `json:"restored"`
	// Skipped entries were already in the target, equal to the version
	// (same type, size, mtime and mode, or the same symlink target): a
	// rerun after an interruption does not write them again.
	Skipped int `json:"skipped"`
	// Failed entries were not written; none of them is left under its
	// final name.
	Failed   int   `json:"failed"`
	Bytes    int64 `json:"bytes"`
	Verified int   `json:"verified"`
	// Dirs is the number of directories created or finished.
	Dirs int `json:"dirs"`
	// Conflicts are existing files that differ from the version (a dry
	// run counts them; a real restore refuses to start with any).
	Conflicts int `json:"conflicts,omitempty"`
}

// ErrConflict is returned (wrapped) when the target holds files that
// differ from the version and Overwrite is off. Nothing was written.
var ErrConflict = errors.New("target has conflicting files")

// tempPrefix starts the names of files being restored. A file gets its
// final name only when its bytes are complete (and verified), so a
// killed restore leaves only such names, which the next restore into the
// same directories removes.
const tempPrefix = ".strata-restore-"

// isTempName reports whether name is one tempName makes: tempPrefix, 12
// hex digits of the run, '-' and a base-36 counter. Only those are
// removed as leftovers, not a file of the user's that merely starts
// with the prefix.
func isTempName(name string) bool {
	rest, ok := strings.CutPrefix(name, tempPrefix)
	if !ok || len(rest) < 14 || rest[12] != '-' {
		return false
	}
	for i, c := range []byte(rest) {
		switch {
		case i == 12:
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f':
		case i > 12 && c >= 'g' && c <= 'z':
		default:
			return false
		}
	}
	return true
}

// restoreReads is how a restore fetches the chunks of its multi-chunk
// files (single-chunk ones go by pack runs): into a cache of its own, as
// it reads most chunks once; small blobs read exactly, not through the
// Store's windows, which only a mount's neighbouring reads use (they
// held 16 MiB of a restore's peak RSS); and, from a store on local disk,
// two chunks ahead, as a local read has no round trip to hide and each
// chunk fetched ahead is up to 2 MiB held outside the cache until it is
// in (the ordinary six made them a fifth of the peak RSS). The cache
// holds every worker's read-ahead at the average chunk size and the
// chunks that files restored near each other share: 64, 32 and 16 MiB
// restored a source tree no faster (to tmpfs, where the disk does not
// hide it).
func (s *Store) restoreReads() chunkReads {
	rd := chunkReads{cache: newChunkCache(8 << 20), ahead: readAhead}
	if lr, ok := s.be.(backends.LocalReader); ok && lr.Local() {
		rd.ahead = 2
	}
	return rd
}

// Restore writes the subtree at path of v ("" for the whole version, or one
// file) into target, with raw names, modes, times and symlinks, and, when
// running as root, the recorded owners (see owners).
//
// It plans first: entries already present and equal are skipped, and
// files that differ are conflicts unless Overwrite, all reported together
// before anything is written. Each file is then written under a
// temporary name in its directory and renamed into place when complete,
// so no file under its final name ever holds partial or wrong content,
// whatever fails (a corrupt chunk, a full disk, a signal, a kill).
// Directories get their modes and times last. A file that fails is
// counted and the others go on; Restore then returns an error naming the
// first failures. It never deletes anything in target but its own
// temporaries.
func (s *Store) Restore(ctx context.Context, v Version, path, target string, opts RestoreOptions) (RestoreResult, error) {
	root, files, err := s.restoreEntries(ctx, v, path)
	if err != nil {
		return RestoreResult{}, err
	}
	return s.restoreFrom(ctx, root, files, path, target, opts)
}

// restoreFrom restores entries as listed (root, and files below it when
// root is a directory): Restore after the catalog read, split off so
// that tests can hand it entries no catalog would hold.
func (s *Store) restoreFrom(ctx context.Context, root File, files []File, path, target string, opts RestoreOptions) (RestoreResult, error) {
	p, err := planRestore(root, files, path, target, opts)
	if err != nil {
		return RestoreResult{}, err
	}
	if opts.DryRun {
		p.result.Bytes, p.result.Conflicts = p.bytes, len(p.conflicts)+len(p.blocked)
		return p.result, nil
	}
	if err := p.prepare(); err != nil {
		return p.result, err
	}
	defer p.root.close()
	return s.writePlan(ctx, p, opts)
}

// writePlan writes a prepared plan's files, then finishes its
// directories.
func (s *Store) writePlan(ctx context.Context, p *restorePlan, opts RestoreOptions) (RestoreResult, error) {
	own := newOwners()
	w := &restoreWriter{s: s, own: own, opts: opts, to: p.to, root: p.root, total: p.bytes, reads: s.restoreReads()}
	w.run(ctx, p.writes)
	p.result.Restored, p.result.Failed, p.result.Bytes, p.result.Verified = int(w.done.Load()), len(w.failures), w.bytes.Load(), int(w.verified.Load())
	// The files' failures come first: a directory that cannot be
	// finished is most often why they failed.
	derr := p.finishDirs(own)
	if err := ctx.Err(); err != nil {
		return p.result, fmt.Errorf("restore interrupted after %d of %d files (no partial file left under its final name; rerun to finish): %w", p.result.Restored, len(p.writes), err)
	}
	if len(w.failures) > 0 {
		return p.result, errors.Join(w.failureError(len(p.writes)), derr)
	}
	if derr != nil {
		return p.result, derr
	}
	return p.result, own.err()
}

// restoreEntries returns the subtree's root and every entry below it.
func (s *Store) restoreEntries(ctx context.Context, v Version, path string) (File, []File, error) {
	root, err := s.Lookup(ctx, v, path)
	if err != nil {
		return File{}, nil, err
	}
	if root.Type != sources.TypeDir {
		return root, []File{root}, nil
	}
	// Sized for the whole version (symlinks count as files), so that a
	// million entries are not copied as the slice grows.
	var files []File
	if path == "" {
		files = make([]File, 0, min(v.Stats.Files+v.Stats.Dirs+1, 1<<24))
	}
	// Each entry is kept with what a restore uses: its fingerprint is
	// dropped and equal owners are shared, a third of a million-file
	// restore's entries.
	owners := map[sources.Owner]*sources.Owner{}
	err = s.Walk(ctx, v, path, func(f File) error {
		f.Fingerprint = ""
		if f.Owner != nil {
			o, ok := owners[*f.Owner]
			if !ok {
				o = f.Owner
				owners[*o] = o
			}
			f.Owner = o
		}
		files = append(files, f)
		return nil
	})
	return root, files, err
}

// restoreTarget says where a version's path is restored: target holds
// the subtree at path (the whole version when path is ""), or the file
// at path (single). Items compute it when needed rather than each
// holding it.
type restoreTarget struct {
	target, path string
	single       bool
}

// rel is where the entry at p goes, relative to the target ("" for the
// target itself). Only for paths check accepted.
func (t restoreTarget) rel(p string) string {
	switch {
	case t.single:
		return p[strings.LastIndexByte(p, '/')+1:]
	case t.path == "":
		return p
	}
	return p[len(t.path)+1:]
}

// join is the target's path rel.
func (t restoreTarget) join(rel string) string {
	if rel == "" {
		return t.target
	}
	return filepath.Join(t.target, rel)
}

func (t restoreTarget) of(p string) string { return t.join(t.rel(p)) }

// check returns where the entry at p goes, relative to the target, or
// an error naming the entry when that is not a plain relative path
// strictly under the target. Stored paths are checked when a backup
// writes them, but a restore reads a manifest that anyone with write
// access to the store may have crafted (`a/../../x`), so it checks
// again before it creates anything.
func (t restoreTarget) check(p string) (string, error) {
	var rel string
	switch {
	case t.single && p == t.path, !t.single && (t.path == "" || strings.HasPrefix(p, t.path+"/")):
		rel = t.rel(p)
	default:
		return "", fmt.Errorf("restore: entry %q of the version is not under the restored path %q (nothing was written)", p, t.path)
	}
	// A plain relative path (sources.CheckPath) joined to the target
	// stays strictly under it.
	if sources.CheckPath(rel) != nil {
		return "", fmt.Errorf("restore: entry %q of the version has an invalid path (an empty, '.' or '..' component, or a NUL byte) and would be written outside %s; refusing the whole restore (nothing was written)", p, t.target)
	}
	return rel, nil
}

// splitRel splits a path relative to the target into its directory (""
// for the target) and name.
func splitRel(rel string) (dir, name string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// restorePlan is what a restore will do, worked out before any write.
type restorePlan struct {
	target string
	to     restoreTarget
	// root is the target, open once it exists (prepare): every entry is
	// created relative to it, without following symlinks.
	root *restoreRoot
	// dirs are the directories to create and finish, root included when
	// the whole version (or a directory) is restored, parents first.
	dirs []restoreDir
	// dirSet holds dirs' relative paths, to check that every entry's
	// parent is one of them.
	dirSet map[string]struct{}
	// writes are the files and symlinks to write, with their targets.
	writes []restoreItem
	// existing are the directories (relative to the target) that were
	// there before: they may hold temporaries of a killed restore.
	existing []string
	// conflicts are existing files that differ from the version, which
	// Overwrite replaces; blocked are entries in the way that it does
	// not (a directory where the version has a file, a symlink or file
	// where it has a directory), each with why.
	conflicts, blocked []string
	bytes              int64
	result             RestoreResult
	// leaders maps a hard-linked file's HardLink to the relative path
	// of its first name; the other names are linked to it after the
	// writes.
	leaders map[uint64]string
}

type restoreDir struct {
	f   File
	rel string // relative to the target, "" for the target itself
}

type restoreItem struct {
	// f points into the restore's list of entries: a million-file
	// restore held three copies of every entry when items copied it.
	// Its target is the plan's restoreTarget.of(f.Path).
	f       *File
	replace bool // an existing different file is replaced (Overwrite)
	// linkTo, for a later name of a hard-linked file, is the path of its
	// first name relative to the target: this one becomes a hard link
	// to it.
	linkTo string
}

// planRestore decides, from one lstat per entry, what each entry needs.
// It first refuses entries that would leave the target, and entries
// whose parent is not a directory of the version (a stored symlink,
// say, which the restore would then write through): every entry is
// created in a directory the restore made or found as a directory.
func planRestore(root File, files []File, path, target string, opts RestoreOptions) (*restorePlan, error) {
	isDir := root.Type == sources.TypeDir
	p := &restorePlan{target: target, to: restoreTarget{target: target, path: path, single: !isDir}, leaders: map[uint64]string{}, dirSet: map[string]struct{}{}}
	rels := make([]string, len(files))
	if isDir {
		p.dirSet[""] = struct{}{}
	}
	for i := range files {
		f := &files[i]
		rel, err := p.to.check(f.Path)
		if err != nil {
			return nil, err
		}
		if isDir {
			if err := p.checkParent(f, rel); err != nil {
				return nil, err
			}
		}
		rels[i] = rel
	}
	p.writes = make([]restoreItem, 0, len(files)) // at most: not copied as it grows
	if isDir {
		p.planDir(restoreDir{f: root, rel: ""})
	} else if fi, err := os.Stat(target); err == nil && fi.IsDir() {
		// A killed restore of the same file left its temporaries here.
		p.existing = append(p.existing, "")
	}
	for i := range files {
		f := &files[i]
		if f.Type == sources.TypeDir {
			p.planDir(restoreDir{f: *f, rel: rels[i]})
			continue
		}
		p.planFile(f, rels[i], opts)
	}
	if opts.Plan != nil {
		p.report(opts.Plan)
	}
	if len(p.conflicts)+len(p.blocked) > 0 && !opts.DryRun {
		return nil, p.conflictError()
	}
	return p, nil
}

// checkParent refuses an entry whose parent directory is not a
// directory entry listed before it (entries come parents first), or
// that repeats a directory's path: such an entry could only be written
// through something else than a directory of the version.
func (p *restorePlan) checkParent(f *File, rel string) error {
	parent, _ := splitRel(rel)
	if _, ok := p.dirSet[parent]; !ok {
		return fmt.Errorf("restore: entry %q of the version is not inside a directory of the version (its parent %q is missing, or a symlink or file); refusing the whole restore (nothing was written)", f.Path, parent)
	}
	if _, ok := p.dirSet[rel]; ok {
		return fmt.Errorf("restore: entry %q of the version appears twice; refusing the whole restore (nothing was written)", f.Path)
	}
	if f.Type == sources.TypeDir {
		p.dirSet[rel] = struct{}{}
	}
	return nil
}

func (p *restorePlan) planDir(d restoreDir) {
	dst := p.to.join(d.rel)
	fi, err := os.Lstat(dst)
	switch {
	case err == nil && fi.IsDir():
		p.existing = append(p.existing, d.rel)
	case err == nil && d.rel == "" && fi.Mode()&os.ModeSymlink != 0:
		p.blocked = append(p.blocked, dst+" (the target is a symlink: give the directory it points to)")
		return
	case err == nil && fi.Mode()&os.ModeSymlink != 0:
		p.blocked = append(p.blocked, dst+" (a symlink where the version has a directory)")
		return
	case err == nil:
		p.blocked = append(p.blocked, dst+" (a file where the version has a directory)")
		return
	}
	p.dirs = append(p.dirs, d)
	p.result.Dirs++
}

func (p *restorePlan) planFile(f *File, rel string, opts RestoreOptions) {
	var linkTo string
	if f.HardLink != 0 && f.Type == sources.TypeFile {
		if first, ok := p.leaders[f.HardLink]; ok {
			linkTo = first
		} else {
			p.leaders[f.HardLink] = rel
		}
	}
	dst := p.to.join(rel)
	fi, err := os.Lstat(dst)
	switch {
	case err != nil:
		p.add(restoreItem{f: f, linkTo: linkTo})
	case equalEntry(*f, dst, fi) && (linkTo == "" || linkedTo(p.to.join(linkTo), fi)):
		p.result.Skipped++
	case fi.IsDir():
		p.blocked = append(p.blocked, dst+" (a directory where the version has a file)")
	case opts.Overwrite:
		p.add(restoreItem{f: f, replace: true, linkTo: linkTo})
	default:
		p.conflicts = append(p.conflicts, dst)
	}
}

// linkedTo reports whether path is the file fi describes (one inode).
func linkedTo(path string, fi os.FileInfo) bool {
	other, err := os.Lstat(path)
	return err == nil && os.SameFile(other, fi)
}

func (p *restorePlan) add(it restoreItem) {
	p.writes = append(p.writes, it)
	if it.linkTo == "" {
		p.bytes += it.f.Size
	}
	p.result.Restored++
}

// equalEntry reports whether dst (with lstat fi) already is f: a regular
// file of the same size, mtime and permissions, or a symlink to the same
// target. That is the state a completed restore leaves, which is what
// lets a rerun skip it; like rsync, it trusts size and mtime.
func equalEntry(f File, dst string, fi os.FileInfo) bool {
	switch f.Type {
	case sources.TypeSymlink:
		if fi.Mode()&os.ModeSymlink == 0 {
			return false
		}
		t, err := os.Readlink(dst)
		return err == nil && t == f.Target
	case sources.TypeFile:
		return fi.Mode().IsRegular() && fi.Size() == f.Size && fi.ModTime().Equal(f.ModTime) &&
			uint32(fi.Mode().Perm()) == f.Mode&0o777
	}
	return false
}

// report tells opts.Plan about every entry, in path order.
func (p *restorePlan) report(plan func(action, path string)) {
	for _, it := range p.writes {
		action := "write"
		if it.replace {
			action = "replace"
		}
		plan(action, p.to.of(it.f.Path))
	}
	for _, c := range p.blocked {
		plan("conflict", c)
	}
	for _, c := range p.conflicts {
		plan("conflict", c)
	}
}

// conflictError lists what keeps the restore from starting, with the
// remedy for each kind: --overwrite replaces files that differ, but
// never a directory, nor anything reached through a symlink, so those
// must be moved away by hand.
func (p *restorePlan) conflictError() error {
	var msg []string
	if len(p.blocked) > 0 {
		msg = append(msg, fmt.Sprintf("%d entries in the target are in the way, and --overwrite does not replace them: remove or rename each (strata does not replace a directory or follow a symlink there), or restore into an empty directory:%s",
			len(p.blocked), firstLines(p.blocked, 10)))
	}
	if len(p.conflicts) > 0 {
		msg = append(msg, fmt.Sprintf("%d existing files differ from the version and would be replaced (use --overwrite to replace them, or restore into an empty directory):%s",
			len(p.conflicts), firstLines(p.conflicts, 10)))
	}
	return fmt.Errorf("%w (nothing was written): %s", ErrConflict, strings.Join(msg, "\n"))
}

// firstLines shows up to show items, one per indented line, and how many
// more there are.
func firstLines(items []string, show int) string {
	more := ""
	if len(items) > show {
		more = fmt.Sprintf("\n  ... and %d more", len(items)-show)
		items = items[:show]
	}
	return "\n  " + strings.Join(items, "\n  ") + more
}

// prepare creates the target and the directories (private until
// finished) and removes temporaries that a killed restore left in the
// existing ones. Each directory is made inside its parent opened without
// following symlinks, so nothing in the target (a symlink planted since
// the plan, say) can send it elsewhere.
func (p *restorePlan) prepare() error {
	if err := os.MkdirAll(p.target, 0o700); err != nil {
		return fmt.Errorf("restore: create %s: %w", p.target, err)
	}
	root, err := openRestoreRoot(p.target)
	if err != nil {
		return err
	}
	for _, d := range p.existing {
		if err := root.removeTemporaries(d); err != nil {
			root.close()
			return err
		}
	}
	for _, d := range p.dirs { // parents first
		if err := root.mkdir(d.rel); err != nil {
			root.close()
			return err
		}
	}
	p.root = root
	return nil
}

// finishDirs gives directories their owners, modes and times, deepest
// first, after their content (writing into a directory changes its
// mtime; a read-only mode would stop the writes).
func (p *restorePlan) finishDirs(own *owners) error {
	dirs := p.dirs
	sort.SliceStable(dirs, func(i, j int) bool { return len(dirs[i].rel) > len(dirs[j].rel) })
	for _, d := range dirs {
		if err := p.root.finishDir(d.f, d.rel, own); err != nil {
			return err
		}
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
