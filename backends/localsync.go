package backends

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// rclone's local backend closes files without fsync, so Put makes local
// objects durable itself: it fsyncs the temporary file before the rename
// and the directory after it, and every directory Put created, since a new
// directory entry is only durable once its parent is synced.

// syncFile fsyncs the file at root/name.
func syncFile(root, name string) error {
	p := filepath.Join(root, filepath.FromSlash(name))
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("fsync %s: %w", p, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync %s: %w", p, err)
	}
	return nil
}

// firstMissingDir returns the slash path (relative to root) of the topmost
// directory on the way to name that does not exist yet, or "" if name's
// directory exists. Put uses it to know which parents it must sync.
func firstMissingDir(root, name string) string {
	missing := ""
	for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(dir))); err == nil {
			break
		}
		missing = dir
	}
	return missing
}

// syncDirs fsyncs name's directory and, when Put created directories
// (created is the topmost of them), each parent up to created's parent.
func syncDirs(root, name, created string) error {
	stop := path.Dir(created)
	if created == "" {
		stop = path.Dir(name)
	}
	for dir := path.Dir(name); ; dir = path.Dir(dir) {
		if err := syncFile(root, dir); err != nil {
			return err
		}
		if dir == stop || dir == "." {
			return nil
		}
	}
}
