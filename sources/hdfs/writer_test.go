package hdfs

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestBackupWhileWriting backs up a snapshottable directory while a
// writer replaces its files one after the other, round after round, each
// file holding its round's number (written beside and renamed in, as
// applications do). A version equal to a snapshot has every file, and
// rounds that never rise along the write order and span at most two
// rounds; a live copy read in another order would not.
func TestBackupWhileWriting(t *testing.T) {
	c := testClient(t)
	base := testDir(t, c, harness.HDFSSnapshotDir+"/writer")
	dir, tmp := base+"/tree", base+"/tmp"
	const n = 30
	name := func(i int) string { return fmt.Sprintf("f%03d", i) }
	write := func(i, round int) error {
		p := fmt.Sprintf("%s/%s.%d", tmp, name(i), round)
		if err := putFile(c, p, []byte(strconv.Itoa(round)+"\n"+strings.Repeat("x", 1000)), 2, 0); err != nil {
			return err
		}
		return c.Rename(p, dir+"/"+name(i))
	}
	must(t, c.MkdirAll(dir, 0o755))
	for i := range n {
		must(t, write(i, 0))
	}
	var (
		writes atomic.Int64
		stop   = make(chan struct{})
		wg     sync.WaitGroup
		werr   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for round := 1; ; round++ {
			for i := range n {
				select {
				case <-stop:
					return
				default:
				}
				if werr = write(i, round); werr != nil {
					return
				}
				writes.Add(1)
			}
		}
	}()
	for writes.Load() < n/2 && !done(&wg) {
		time.Sleep(10 * time.Millisecond)
	}
	s := newTestSource(t, "t="+dir)
	before := writes.Load()
	// The first file read waits for two more writes, so that writes
	// surely land between the snapshot and the reads: a backup can finish
	// before one HDFS write and rename does (CI once saw none, in a test
	// that took 0.93 s in all).
	w := &waitingWriter{Writer: sourcetest.NewWriter(nil), wait: func() {
		for deadline := time.Now().Add(30 * time.Second); writes.Load() < before+2 && !done(&wg) && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
	}}
	res, err := s.Backup(context.Background(), s.cfg.objectOf("t", dir), sources.NoPrevious{}, w)
	during := writes.Load() - before
	close(stop)
	wg.Wait()
	must(t, err)
	must(t, werr)
	t.Logf("%d writes during the backup; snapshot %s", during, res.Meta["snapshot"])
	if during == 0 {
		t.Error("no write happened during the backup: the test proves nothing")
	}
	rounds := make([]int, n)
	for i := range n {
		data := w.Data(name(i))
		r, _, _ := strings.Cut(string(data), "\n")
		v, err := strconv.Atoi(r)
		if err != nil {
			t.Fatalf("%s: %q in the version, want a round number", name(i), data)
		}
		rounds[i] = v
	}
	for i := 1; i < n; i++ {
		if rounds[i] > rounds[i-1] {
			t.Fatalf("rounds %v: %s (round %d) is newer than %s (round %d), written before it: not one point in time", rounds, name(i), rounds[i], name(i-1), rounds[i-1])
		}
	}
	if rounds[0]-rounds[n-1] > 1 {
		t.Fatalf("rounds %v span more than two rounds", rounds)
	}
}

// waitingWriter calls wait once, before the first file is added.
type waitingWriter struct {
	*sourcetest.Writer
	once sync.Once
	wait func()
}

func (w *waitingWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if e.Type == sources.TypeFile {
		w.once.Do(w.wait)
	}
	return w.Writer.Add(ctx, e, r)
}

// done reports whether wg's goroutines have all returned.
func done(wg *sync.WaitGroup) bool {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
		return true
	case <-time.After(time.Millisecond):
		return false
	}
}
