package backends_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

const packSize = 16 << 20

// BenchmarkLocalPut writes 16 MiB packs through the local backend: temporary
// file, fsync, rename, directory fsync.
func BenchmarkLocalPut(b *testing.B) {
	be := open(b, b.TempDir())
	data := make([]byte, packSize)
	b.SetBytes(packSize)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if err := be.Put(ctx, fmt.Sprintf("packs/%02x/%d", i%256, i), data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawPut is the floor BenchmarkLocalPut is measured against: the
// same write, fsync and rename with the os package alone.
func BenchmarkRawPut(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, packSize)
	b.SetBytes(packSize)
	for i := 0; b.Loop(); i++ {
		d := filepath.Join(dir, "packs", fmt.Sprintf("%02x", i%256))
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := rawPut(d, fmt.Sprint(i), data); err != nil {
			b.Fatal(err)
		}
	}
}

func rawPut(dir, name string, data []byte) error {
	tmp := filepath.Join(dir, ".tmp-"+name)
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// BenchmarkLocalGet reads whole 16 MiB packs (from the page cache) into a
// buffer, as the store does.
func BenchmarkLocalGet(b *testing.B) {
	be, names := filledLocal(b, 8)
	buf := make([]byte, packSize)
	b.SetBytes(packSize)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		rc, err := be.Get(ctx, names[i%len(names)], 0, -1)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.ReadFull(rc, buf); err != nil {
			b.Fatalf("read %d bytes: %v", n, err)
		}
		rc.Close()
	}
}

// BenchmarkLocalGetRange reads 4 KiB at spread offsets of 16 MiB packs, as
// the mount does for small files.
func BenchmarkLocalGetRange(b *testing.B) {
	be, names := filledLocal(b, 8)
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		off := int64(i*7919*4096) % (packSize - 4096)
		rc, err := be.Get(ctx, names[i%len(names)], off, 4096)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(rc, buf); err != nil {
			b.Fatal(err)
		}
		rc.Close()
	}
}

// filledLocal returns a local backend holding n packs.
func filledLocal(b *testing.B, n int) (be interface {
	Get(context.Context, string, int64, int64) (io.ReadCloser, error)
}, names []string) {
	local := open(b, b.TempDir())
	data := make([]byte, packSize)
	for i := range n {
		name := fmt.Sprintf("packs/%02x/%d", i, i)
		if err := local.Put(context.Background(), name, data); err != nil {
			b.Fatal(err)
		}
		names = append(names, name)
	}
	return local, names
}
