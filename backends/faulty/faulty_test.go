package faulty_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/backends/faulty"
)

func newMemory(t *testing.T) backends.Backend {
	b, err := backends.Open(context.Background(), fmt.Sprintf(":memory:faulty-%s", t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFailNthPut(t *testing.T) {
	f := faulty.New(newMemory(t))
	f.FailNth(faulty.Put, 2, nil)
	ctx := context.Background()
	var errs []error
	for i := range 3 {
		errs = append(errs, f.Put(ctx, fmt.Sprint(i), []byte{1}))
	}
	if errs[0] != nil || !errors.Is(errs[1], faulty.ErrInjected) || errs[2] != nil {
		t.Errorf("put errors: %v, want only the second to fail", errs)
	}
	if _, err := f.Stat(ctx, "1"); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("failed put stored an object: %v", err)
	}
	if f.Calls(faulty.Put) != 3 || f.Calls(faulty.Stat) != 1 {
		t.Errorf("calls: put %d stat %d, want 3 and 1", f.Calls(faulty.Put), f.Calls(faulty.Stat))
	}
}

func TestFailPrefixUntilReset(t *testing.T) {
	f := faulty.New(newMemory(t))
	ctx := context.Background()
	for _, n := range []string{"packs/a", "index/a"} {
		if err := f.Put(ctx, n, []byte(n)); err != nil {
			t.Fatal(err)
		}
	}
	permanent := fmt.Errorf("gone: %w", backends.ErrNotFound)
	f.FailPrefix(faulty.Get, "packs/", permanent)
	if _, err := f.Get(ctx, "packs/a", 0, -1); !errors.Is(err, backends.ErrNotFound) {
		t.Errorf("get packs/a: %v, want the injected error", err)
	}
	rc, err := f.Get(ctx, "index/a", 0, -1)
	if err != nil {
		t.Fatalf("get index/a: %v", err)
	}
	rc.Close()
	f.Reset()
	rc, err = f.Get(ctx, "packs/a", 0, -1)
	if err != nil {
		t.Fatalf("get after reset: %v", err)
	}
	rc.Close()
}
