package sources

// The CPU count that sizes worker pools (sources' readers, the store's
// backup workers, zstd's concurrency, restore writers) is kept apart from
// GOMAXPROCS, which the CLI raises above it for backups and mounts.
//
// A goroutine blocked in a read(2) or fstatat(2) that waits on the disk
// keeps its P until the runtime's monitor takes it back, which can take
// up to 10 ms once the monitor has backed off; with GOMAXPROCS equal to
// the cores, a few readers waiting on a cold disk left runnable goroutines
// (hashing, compressing) without a P while the cores idled. On the 2-core
// machine, a backup of a 78,669-file source tree whose files all changed
// (cold cache) used 1.1 of its 2 cores and took 6.2-7.7 s; with twice the
// Ps it took 4.9-5.4 s. The pools stay sized by the cores: more workers
// only hold more buffers (peak RSS) for the same CPU.

import (
	"os"
	"runtime"
)

// cpus is GOMAXPROCS as the process started with it: the cores it may use
// (Go's default counts the CPU quota of a container), or what the
// GOMAXPROCS variable says.
var cpus = runtime.GOMAXPROCS(0)

// CPUs is how many cores the process uses: what worker pools are sized
// by, whatever GOMAXPROCS is now.
func CPUs() int { return cpus }

// RaiseForIO sets GOMAXPROCS to twice CPUs, so that goroutines waiting on
// the disk in system calls do not keep the others off the cores; the
// GOMAXPROCS environment variable, when set, is left to rule.
func RaiseForIO() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(2 * cpus)
	}
}
