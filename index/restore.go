package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
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
// file) into target, with raw names, modes, times and symlinks. It restores
// into a fresh target or, with Overwrite, over existing files; it never
// deletes anything in target.
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
	// Directories first, then files in parallel, then directory times
	// deepest first (writing files would change them).
	var dirs []File
	for _, f := range files {
		if f.Type == sources.TypeDir {
			dirs = append(dirs, f)
			if err := os.MkdirAll(filepath.Join(target, rel(f.Path)), 0o700); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
	}
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
			dst := filepath.Join(target, rel(f.Path))
			if err := s.restoreOne(gctx, f, dst, opts.Overwrite); err != nil {
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
	if err := g.Wait(); err != nil {
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
		if err := os.Chmod(dst, os.FileMode(d.Mode&0o777)|modeBits(d.Mode)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if err := os.Chtimes(dst, d.ModTime, d.ModTime); err != nil {
			return fmt.Errorf("restore: %w", err)
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

func (s *Store) restoreOne(ctx context.Context, f File, dst string, overwrite bool) error {
	if f.Type == sources.TypeSymlink {
		if overwrite {
			_ = os.Remove(dst)
		}
		if err := os.Symlink(f.Target, dst); err != nil {
			return fmt.Errorf("restore %s: %w", f.Path, err)
		}
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
