package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// memWatch samples the machine's memory in use (MemTotal - MemAvailable)
// while a step runs: FerretDB sorts in memory, so a large sorted find can
// take as much RAM as the collection.
type memWatch struct {
	stop chan struct{}
	peak chan int64
}

func watchMemory() *memWatch {
	w := &memWatch{stop: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		var peak int64
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, memInUse())
			select {
			case <-w.stop:
				w.peak <- peak
				return
			case <-t.C:
			}
		}
	}()
	return w
}

// end stops sampling and returns the peak bytes in use.
func (w *memWatch) end() int64 {
	close(w.stop)
	return <-w.peak
}

// memInUse reads /proc/meminfo; 0 if it cannot.
func memInUse() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	var total, avail int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "MemTotal:":
			total = kb << 10
		case "MemAvailable:":
			avail = kb << 10
		}
	}
	return total - avail
}
