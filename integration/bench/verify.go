package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// sizeAt is the file's size in the given version.
func (f fileSpec) sizeAt(version int) int64 {
	if version == 2 && f.changed && f.kind == kindText {
		return f.size + f.size/16
	}
	return f.size
}

// verifyTree checks that root holds every file of d (as it is now, version
// 2) with the right size, and compares the content of the large files and
// of every 50th other file.
func verifyTree(d *dataset, root string) error {
	for i, f := range d.files {
		got := filepath.Join(root, f.rel)
		fi, err := os.Stat(got)
		if err != nil {
			return err
		}
		if fi.Size() != f.sizeAt(2) {
			return fmt.Errorf("%s: size %d, want %d", got, fi.Size(), f.sizeAt(2))
		}
		if i%50 == 0 || filepath.Dir(f.rel) == "large" {
			if err := sameContent(filepath.Join(d.dir, f.rel), got); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameContent(want, got string) error {
	a, err := os.Open(want)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := os.Open(got)
	if err != nil {
		return err
	}
	defer b.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return fmt.Errorf("%s differs from the source near byte %d", got, off)
		}
		off += int64(na)
		if ea != nil || eb != nil {
			if (ea == io.EOF || ea == io.ErrUnexpectedEOF) && (eb == io.EOF || eb == io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("compare %s: %v %v", got, ea, eb)
		}
	}
}
