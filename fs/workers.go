package fs

// workers counts the goroutines of a queue that starts them only while
// there is work and lets them end when it runs dry (prefetch.go,
// listahead.go), so a mount needs no shutdown for them. Its methods are
// called under the queue's lock.
type workers struct{ running int }

// start reports whether the caller is to start one more goroutine: fewer
// than max run.
func (w *workers) start(max int) bool {
	if w.running >= max {
		return false
	}
	w.running++
	return true
}

// stop records that a goroutine found the queue empty and ends.
func (w *workers) stop() { w.running-- }
