package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// printJSON writes v as indented JSON to stdout.
func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// humanBytes formats a byte count with binary units: 1.5 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return humanBytes(int64(float64(n)/d.Seconds())) + "/s"
}

// status is a one-line progress display on a terminal (stderr); it prints
// nothing when stderr is not a terminal, or with --quiet or --json, so
// scripts stay quiet.
type status struct {
	mu   sync.Mutex
	on   bool
	last int
}

func newStatus(u ui) *status {
	on := !u.quiet && !u.json && term.IsTerminal(int(os.Stderr.Fd()))
	return &status{on: on}
}

func (s *status) set(format string, args ...any) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	pad := ""
	if len(line) < s.last {
		pad = strings.Repeat(" ", s.last-len(line))
	}
	s.last = len(line)
	fmt.Fprintf(os.Stderr, "\r%s%s", line, pad)
}

func (s *status) done() {
	if !s.on || s.last == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(os.Stderr, "\r%s\r", strings.Repeat(" ", s.last))
	s.last = 0
}

// eta estimates the time left from the rate so far: ", ETA 1m20s".
func eta(done, total int64, elapsed time.Duration) string {
	if done <= 0 || total <= done {
		return ""
	}
	left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
	return ", ETA " + left.Round(time.Second).String()
}
