package index

import (
	"errors"
	"testing"
)

// TestChunkSetLoadsOnceOnFirstUse: the set is not read from the catalog
// until a claim (or wait) needs it, then once however many ask; a failed
// load fails every claim with its error; a run closed before any use
// never loads it.
func TestChunkSetLoadsOnceOnFirstUse(t *testing.T) {
	loads := 0
	have := ID{1}
	c := newChunkSet(func(add func(ID, uint32)) error { loads++; add(have, 7); return nil })
	if loads != 0 {
		t.Fatal("loaded before first use")
	}
	if mine, err := c.claim(have); err != nil || mine {
		t.Fatalf("claim of a stored chunk = %v, %v; want false, nil", mine, err)
	}
	if mine, err := c.claim(ID{2}); err != nil || !mine {
		t.Fatalf("claim of a new chunk = %v, %v; want true, nil", mine, err)
	}
	if err := c.wait(); err != nil || loads != 1 || c.size(have) != 7 {
		t.Fatalf("after use: err %v, %d loads, size %d; want nil, 1, 7", err, loads, c.size(have))
	}
	if !c.started() {
		t.Error("a used set says it never started")
	}

	boom := errors.New("boom")
	bad := newChunkSet(func(func(ID, uint32)) error { return boom })
	if _, err := bad.claim(have); !errors.Is(err, boom) {
		t.Errorf("claim on a failed load: %v, want %v", err, boom)
	}

	unused := newChunkSet(func(func(ID, uint32)) error { t.Error("an unused set was loaded"); return nil })
	if unused.started() {
		t.Error("an unused set says it started")
	}
	if err := unused.wait(); !errors.Is(err, errNotLoaded) {
		t.Errorf("wait after close: %v, want %v", err, errNotLoaded)
	}
}
