package main

import (
	"strings"
	"testing"
)

func TestLockCache(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockCache(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	if _, err := lockCache(dir); err == nil || !strings.Contains(err.Error(), "in use by another benchmark") {
		t.Fatalf("second lock while held: %v, want an in-use error", err)
	}
	unlock()
	again, err := lockCache(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	again()
}
