//go:build linux

// Package uring reads many small files with one system call per batch
// (Linux io_uring). A backup of a source tree reads tens of thousands of
// files of a few KiB, one request to the disk each when read one by one:
// on this project's 2-core VM, 78,613 files took 84,248 requests and
// 4.7-5.1 s with eight threads reading, most of it system time spent per
// request. Submitted 64 at a time in name order, reads of files that lie
// next to each other on disk are merged by the block layer before they
// reach the device: 11,819 requests and 2.9 s.
//
// Only what a batch of reads needs is here: no polling threads, no
// registered buffers. A Ring is used by one goroutine, locked to its
// thread (see New).
package uring

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ErrUnsupported says the kernel offers no io_uring here (too old,
// disabled by sysctl, or refused by a seccomp filter, as in containers
// with a default profile): the caller reads files one by one instead.
var ErrUnsupported = errors.New("io_uring unavailable")

// Read is one read of a batch: N bytes into Buf from file offset Off of
// FD. Submit sets Res to the bytes read, or Err.
type Read struct {
	FD  int
	Buf []byte
	Off int64
	Res int
	Err error
}

// Ring is an io_uring instance sized for batches of up to Entries reads.
type Ring struct {
	fd      int
	entries uint32
	sqRing  []byte
	cqRing  []byte
	sqes    []byte

	sqHead, sqTail, sqMask *uint32
	sqArray                unsafe.Pointer
	cqHead, cqTail, cqMask *uint32
	cqes                   unsafe.Pointer

	broken bool
}

// Layout of the kernel's structures (include/uapi/linux/io_uring.h).
const (
	opRead            = 22 // IORING_OP_READ, Linux 5.6
	sqeSize           = 64
	cqeSize           = 16
	offSQRing         = 0
	offCQRing         = 0x8000000
	offSQEs           = 0x10000000
	enterGetEvents    = 1 << 0
	setupSingleIssuer = 1 << 12
	setupDeferTaskrun = 1 << 13
)

type sqOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type cqOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type params struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  sqOffsets
	cqOff                                                                  cqOffsets
}

// New sets up a ring for batches of up to entries reads. The caller must
// have locked its goroutine to its thread (runtime.LockOSThread) and use
// the ring from that goroutine only: the ring is set up for a single
// submitter whose completions are processed when it waits for them (no
// interrupts of other work), where the kernel allows it (Linux 6.1), else
// as a plain ring.
func New(entries uint32) (*Ring, error) {
	var p params
	fd, err := setup(entries, &p, setupSingleIssuer|setupDeferTaskrun)
	if errors.Is(err, unix.EINVAL) {
		p = params{}
		fd, err = setup(entries, &p, 0)
	}
	if err != nil {
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
		}
		return nil, fmt.Errorf("io_uring setup: %w", err)
	}
	r := &Ring{fd: fd, entries: p.sqEntries}
	if err := r.mmap(&p); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func setup(entries uint32, p *params, flags uint32) (int, error) {
	p.flags = flags
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(p)), 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func (r *Ring) mmap(p *params) error {
	var err error
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE
	if r.sqRing, err = unix.Mmap(r.fd, offSQRing, int(p.sqOff.array+p.sqEntries*4), prot, flags); err != nil {
		return fmt.Errorf("io_uring map submission ring: %w", err)
	}
	if r.cqRing, err = unix.Mmap(r.fd, offCQRing, int(p.cqOff.cqes+p.cqEntries*cqeSize), prot, flags); err != nil {
		return fmt.Errorf("io_uring map completion ring: %w", err)
	}
	if r.sqes, err = unix.Mmap(r.fd, offSQEs, int(p.sqEntries*sqeSize), prot, flags); err != nil {
		return fmt.Errorf("io_uring map submission entries: %w", err)
	}
	sq, cq := unsafe.Pointer(&r.sqRing[0]), unsafe.Pointer(&r.cqRing[0])
	r.sqHead = (*uint32)(unsafe.Add(sq, p.sqOff.head))
	r.sqTail = (*uint32)(unsafe.Add(sq, p.sqOff.tail))
	r.sqMask = (*uint32)(unsafe.Add(sq, p.sqOff.ringMask))
	r.sqArray = unsafe.Add(sq, p.sqOff.array)
	r.cqHead = (*uint32)(unsafe.Add(cq, p.cqOff.head))
	r.cqTail = (*uint32)(unsafe.Add(cq, p.cqOff.tail))
	r.cqMask = (*uint32)(unsafe.Add(cq, p.cqOff.ringMask))
	r.cqes = unsafe.Add(cq, p.cqOff.cqes)
	return nil
}

// Entries is the largest batch Submit takes.
func (r *Ring) Entries() int { return int(r.entries) }

// Submit starts every read of batch at once and returns when all have
// completed, with each one's Res or Err set. An error of its own means
// the ring can no longer be used: reads may still be in flight, so the
// batch's buffers must not be reused (Submit keeps them from the
// collector then).
func (r *Ring) Submit(batch []Read) error {
	if r.broken {
		return errors.New("io_uring: ring unusable after an earlier failure")
	}
	if len(batch) > int(r.entries) {
		return fmt.Errorf("io_uring: batch of %d reads, ring of %d", len(batch), r.entries)
	}
	if len(batch) == 0 {
		return nil
	}
	mask := *r.sqMask
	tail := *r.sqTail // only this goroutine writes it
	for i := range batch {
		rd := &batch[i]
		rd.Res, rd.Err = 0, nil
		idx := tail & mask
		sqe := unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&r.sqes[0]), uintptr(idx)*sqeSize)), sqeSize)
		clear(sqe)
		sqe[0] = opRead
		*(*int32)(unsafe.Pointer(&sqe[4])) = int32(rd.FD)
		*(*uint64)(unsafe.Pointer(&sqe[8])) = uint64(rd.Off)
		if len(rd.Buf) > 0 {
			*(*uint64)(unsafe.Pointer(&sqe[16])) = uint64(uintptr(unsafe.Pointer(&rd.Buf[0])))
		}
		*(*uint32)(unsafe.Pointer(&sqe[24])) = uint32(len(rd.Buf))
		*(*uint64)(unsafe.Pointer(&sqe[32])) = uint64(i)
		*(*uint32)(unsafe.Add(r.sqArray, uintptr(idx)*4)) = idx
		tail++
	}
	atomic.StoreUint32(r.sqTail, tail)

	done := 0
	for done < len(batch) {
		done += r.reap(batch)
		if done == len(batch) {
			break
		}
		toSubmit := tail - atomic.LoadUint32(r.sqHead)
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(toSubmit), uintptr(len(batch)-done), enterGetEvents, 0, 0)
		switch errno {
		case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY:
		default:
			r.broken = true
			pin(batch)
			return fmt.Errorf("io_uring enter: %w", errno)
		}
	}
	return nil
}

// reap takes the completions available and returns how many there were.
func (r *Ring) reap(batch []Read) int {
	head := *r.cqHead
	tail := atomic.LoadUint32(r.cqTail)
	n := 0
	for ; head != tail; head++ {
		cqe := unsafe.Add(r.cqes, uintptr(head&*r.cqMask)*cqeSize)
		i := *(*uint64)(cqe)
		res := *(*int32)(unsafe.Add(cqe, 8))
		if i < uint64(len(batch)) {
			if res < 0 {
				batch[i].Err = syscall.Errno(-res)
			} else {
				batch[i].Res = int(res)
			}
		}
		n++
	}
	atomic.StoreUint32(r.cqHead, head)
	return n
}

// Close releases the ring.
func (r *Ring) Close() error {
	for _, m := range [][]byte{r.sqes, r.cqRing, r.sqRing} {
		if m != nil {
			_ = unix.Munmap(m)
		}
	}
	return unix.Close(r.fd)
}

// pinned holds the buffers of batches abandoned with reads in flight, so
// that the kernel never writes into memory the collector gave to someone
// else.
var pinned struct {
	mu      sync.Mutex
	batches [][]Read
}

func pin(b []Read) {
	pinned.mu.Lock()
	pinned.batches = append(pinned.batches, b)
	pinned.mu.Unlock()
}
