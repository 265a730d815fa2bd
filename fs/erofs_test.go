package fs

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWritesAreEROFS(t *testing.T) {
	mnt := mountTest(t, fixture())
	for _, dir := range []string{
		"", "prod-cass", "prod-cass/shop/orders", "prod-cass/shop/orders/@at",
		"prod-cass/shop/orders/" + t1, "prod-cass/shop/orders/" + t1 + "/dir",
		"prod-cass/shop/orders/@diff/" + t1 + ".." + t2,
	} {
		t.Run(dir, func(t *testing.T) { checkEROFS(t, filepath.Join(mnt, dir)) })
	}
	v1 := tablePath(mnt, orders, t1)
	file := filepath.Join(v1, "a.txt")
	cases := []struct {
		op string
		fn func() error
	}{
		{"open O_WRONLY", func() error { return openClose(file, os.O_WRONLY) }},
		{"open O_RDWR", func() error { return openClose(file, os.O_RDWR) }},
		{"open O_TRUNC", func() error { return openClose(file, os.O_RDONLY|os.O_TRUNC) }},
		{"open O_APPEND", func() error { return openClose(file, os.O_WRONLY|os.O_APPEND) }},
		{"truncate", func() error { return syscall.Truncate(file, 0) }},
		{"chmod", func() error { return syscall.Chmod(file, 0o777) }},
		{"chown", func() error { return syscall.Chown(file, 1, 1) }},
		{"utimes", func() error { return syscall.UtimesNano(file, make([]syscall.Timespec, 2)) }},
		{"setxattr", func() error { return syscall.Setxattr(file, "user.x", []byte("y"), 0) }},
		{"removexattr", func() error { return syscall.Removexattr(file, "user.x") }},
		{"unlink file", func() error { return syscall.Unlink(file) }},
		{"rmdir", func() error { return syscall.Rmdir(filepath.Join(v1, "dir/sub")) }},
		{"rmdir version", func() error { return syscall.Rmdir(v1) }},
		{"unlink latest", func() error { return syscall.Unlink(tablePath(mnt, orders, "latest")) }},
		{"rename", func() error { return syscall.Rename(file, filepath.Join(v1, "b.txt")) }},
		{"link", func() error { return syscall.Link(file, filepath.Join(v1, "hard")) }},
		{"chmod version", func() error { return syscall.Chmod(v1, 0o700) }},
		{"chmod root", func() error { return syscall.Chmod(mnt, 0o700) }},
	}
	for _, c := range cases {
		wantErrno(t, c.op, c.fn(), syscall.EROFS)
	}
}

// checkEROFS tries to create every kind of entry in dir.
func checkEROFS(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "new")
	wantErrno(t, "create", openClose(p, os.O_WRONLY|os.O_CREATE), syscall.EROFS)
	wantErrno(t, "mkdir", syscall.Mkdir(p, 0o755), syscall.EROFS)
	wantErrno(t, "symlink", syscall.Symlink("x", p), syscall.EROFS)
	wantErrno(t, "mknod", syscall.Mknod(p, syscall.S_IFIFO|0o644, 0), syscall.EROFS)
	wantErrno(t, "O_TMPFILE", openClose(dir, os.O_WRONLY|unix.O_TMPFILE), syscall.EROFS)
}

func openClose(p string, flags int) error {
	f, err := os.OpenFile(p, flags, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}
