//go:build linux

package uring

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// newRing sets up a ring on the test's locked thread; where the kernel
// has none it skips, except in CI, which must test the batched reads.
func newRing(t *testing.T, entries uint32) *Ring {
	t.Helper()
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
	r, err := New(entries)
	if errors.Is(err, ErrUnsupported) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestSubmitReadsEveryFile(t *testing.T) {
	r := newRing(t, 8)
	dir := t.TempDir()
	var batch []Read
	var want [][]byte
	for i := range 8 {
		data := bytes.Repeat([]byte(fmt.Sprintf("file %d;", i)), 1000*i) // the first is empty
		p := filepath.Join(dir, fmt.Sprint(i))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fd, err := unix.Open(p, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		batch = append(batch, Read{FD: fd, Buf: make([]byte, len(data)+10)}) // room past the end
		want = append(want, data)
	}
	for round := range 3 { // the ring's slots are reused
		if err := r.Submit(batch); err != nil {
			t.Fatal(err)
		}
		for i, rd := range batch {
			if rd.Err != nil || rd.Res != len(want[i]) || !bytes.Equal(rd.Buf[:rd.Res], want[i]) {
				t.Errorf("round %d, file %d: res %d err %v, want %d bytes", round, i, rd.Res, rd.Err, len(want[i]))
			}
		}
	}
}

func TestSubmitReportsEachFailure(t *testing.T) {
	r := newRing(t, 4)
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(p, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	batch := []Read{
		{FD: fd, Buf: make([]byte, 7)},
		{FD: 1 << 20, Buf: make([]byte, 7)}, // not open
		{FD: fd, Buf: make([]byte, 3), Off: 4},
	}
	if err := r.Submit(batch); err != nil {
		t.Fatal(err)
	}
	if batch[0].Res != 7 || string(batch[0].Buf) != "content" {
		t.Errorf("first read: %d %q", batch[0].Res, batch[0].Buf)
	}
	if !errors.Is(batch[1].Err, unix.EBADF) {
		t.Errorf("read of a closed descriptor: err %v, want EBADF", batch[1].Err)
	}
	if batch[2].Res != 3 || string(batch[2].Buf) != "ent" {
		t.Errorf("read at offset 4: %d %q", batch[2].Res, batch[2].Buf)
	}
	if err := r.Submit(make([]Read, r.Entries()+1)); err == nil {
		t.Error("a batch larger than the ring was taken")
	}
}
