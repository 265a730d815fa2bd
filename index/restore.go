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
	p, err := planRestore(root, files, path, target, opts)
	if err != nil {
		return RestoreResult{}, err
	}
	if opts.DryRun {
		p.result.Bytes, p.result.Conflicts = p.bytes, len(p.conflicts)
		return p.result, nil
	}
	if err := p.prepare(); err != nil {
		return p.result, err
	}
	own := newOwners()
	w := &restoreWriter{s: s, own: own, opts: opts, to: p.to, total: p.bytes, reads: s.restoreReads()}
	w.run(ctx, p.writes)
	p.result.Restored, p.result.Failed, p.result.Bytes, p.result.Verified = int(w.done.Load()), len(w.failures), w.bytes.Load(), int(w.verified.Load())
	if err := p.finishDirs(own); err != nil {
		return p.result, err
	}
	if err := ctx.Err(); err != nil {
		return p.result, fmt.Errorf("restore interrupted after %d of %d files (no partial file left under its final name; rerun to finish): %w", p.result.Restored, len(p.writes), err)
	}
	if len(w.failures) > 0 {
		return p.result, w.failureError(len(p.writes))
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
// at path. Items compute it when needed rather than each holding it.
type restoreTarget struct{ target, path string }

func (t restoreTarget) of(p string) string {
	switch {
	case t.path == "":
		return filepath.Join(t.target, p)
	case p == t.path:
		return filepath.Join(t.target, filepath.Base(p))
	}
	return filepath.Join(t.target, p[len(t.path)+1:])
}

// restorePlan is what a restore will do, worked out before any write.
type restorePlan struct {
	target string
	to     restoreTarget
	// dirs are the directories to create and finish, root included when
	// the whole version (or a directory) is restored.
	dirs []restoreDir
	// writes are the files and symlinks to write, with their targets.
	writes []restoreItem
	// existing are the directories that were there before: they may hold
	// temporaries of a killed restore.
	existing  []string
	conflicts []string
	bytes     int64
	result    RestoreResult
	// leaders maps a hard-linked file's HardLink to the target of its
	// first name; the other names are linked to it after the writes.
	leaders map[uint64]string
}

type restoreDir struct {
	f   File
	dst string
}

type restoreItem struct {
	// f points into the restore's list of entries: a million-file
	// restore held three copies of every entry when items copied it.
	// Its target is the plan's restoreTarget.of(f.Path).
	f       *File
	replace bool // an existing different file is replaced (Overwrite)
	// linkTo, for a later name of a hard-linked file, is the target of
	// its first name: this one becomes a hard link to it.
	linkTo string
}

// planRestore decides, from one lstat per entry, what each entry needs.
func planRestore(root File, files []File, path, target string, opts RestoreOptions) (*restorePlan, error) {
	p := &restorePlan{target: target, to: restoreTarget{target: target, path: path}, leaders: map[uint64]string{}}
	p.writes = make([]restoreItem, 0, len(files)) // at most: not copied as it grows
	dst := func(f File) string { return p.to.of(f.Path) }
	if root.Type == sources.TypeDir {
		p.planDir(restoreDir{f: root, dst: target})
	}
	for i := range files {
		f := &files[i]
		if f.Type == sources.TypeDir {
			p.planDir(restoreDir{f: *f, dst: dst(*f)})
			continue
		}
		p.planFile(f, dst(*f), opts)
	}
	if opts.Plan != nil {
		p.report(opts.Plan)
	}
	if len(p.conflicts) > 0 && !opts.DryRun {
		return nil, p.conflictError()
	}
	return p, nil
}

func (p *restorePlan) planDir(d restoreDir) {
	fi, err := os.Lstat(d.dst)
	switch {
	case err == nil && fi.IsDir():
		p.existing = append(p.existing, d.dst)
	case err == nil:
		p.conflicts = append(p.conflicts, d.dst+" (not a directory)")
		return
	}
	p.dirs = append(p.dirs, d)
	p.result.Dirs++
}

func (p *restorePlan) planFile(f *File, dst string, opts RestoreOptions) {
	var linkTo string
	if f.HardLink != 0 && f.Type == sources.TypeFile {
		if first, ok := p.leaders[f.HardLink]; ok {
			linkTo = first
		} else {
			p.leaders[f.HardLink] = dst
		}
	}
	fi, err := os.Lstat(dst)
	switch {
	case err != nil:
		p.add(restoreItem{f: f, linkTo: linkTo})
	case equalEntry(*f, dst, fi) && (linkTo == "" || linkedTo(linkTo, fi)):
		p.result.Skipped++
	case fi.IsDir():
		p.conflicts = append(p.conflicts, dst+" (a directory)")
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
	for _, c := range p.conflicts {
		plan("conflict", c)
	}
}

func (p *restorePlan) conflictError() error {
	return fmt.Errorf("%w: %d existing files differ from the version and would be replaced (nothing was written; use --overwrite to replace them, or restore into an empty directory):%s",
		ErrConflict, len(p.conflicts), firstLines(p.conflicts, 10))
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

// prepare creates the directories (private until finished) and removes
// temporaries that a killed restore left in the existing ones.
func (p *restorePlan) prepare() error {
	if err := os.MkdirAll(p.target, 0o700); err != nil {
		return fmt.Errorf("restore: create %s: %w", p.target, err)
	}
	for _, d := range p.existing {
		if err := removeTemporaries(d); err != nil {
			return err
		}
	}
	for _, d := range p.dirs {
		if err := os.MkdirAll(d.dst, 0o700); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// removeTemporaries deletes a killed restore's leftovers in dir.
func removeTemporaries(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return fmt.Errorf("restore: list %s: %w", dir, err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, tempPrefix) {
			if err := os.Remove(filepath.Join(dir, n)); err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("restore: remove leftover %s: %w", filepath.Join(dir, n), err)
			}
		}
	}
	return nil
}

// finishDirs gives directories their owners, modes and times, deepest
// first, after their content (writing into a directory changes its
// mtime; a read-only mode would stop the writes).
func (p *restorePlan) finishDirs(own *owners) error {
	dirs := p.dirs
	sort.SliceStable(dirs, func(i, j int) bool { return len(dirs[i].dst) > len(dirs[j].dst) })
	for _, d := range dirs {
		if err := finishDir(d.f, d.dst, own); err != nil {
			return err
		}
	}
	return nil
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
