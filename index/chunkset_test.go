package index

import (
	"context"
	"errors"
	"testing"

	"github.com/stratabackup/strata/sources"
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

// TestNoChangeBackupLoadsNoChunkSet: a re-backup that keeps every file
// needs no chunk set (its list is the previous one's chunks, and so are
// its stats), and does not load one; one that stores content does.
func TestNoChangeBackupLoadsNoChunkSet(t *testing.T) {
	st, _, _ := newTestStore(t)
	ctx := context.Background()
	files := map[string][]byte{"a": randBytes(31, 300<<10), "b": randBytes(32, 5000)}
	src := &memSource{files: files}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v1, err := st.Backup(ctx, src, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		keep     map[string]bool
		wantLoad bool
	}{
		{"nothing changed", map[string]bool{"a": true, "b": true}, false},
		{"one file written", map[string]bool{"a": true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src.keep = tc.keep
			run, err := st.BeginBackup(ctx, "test", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer run.Close()
			sess, err := sources.Begin(ctx, src, []sources.Object{obj}, sources.Discard)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			v, err := run.Backup(ctx, src.Kind(), sess, obj, BackupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if loaded := run.known.began.Load(); loaded != tc.wantLoad {
				t.Errorf("chunk set loaded: %v, want %v", loaded, tc.wantLoad)
			}
			if v.Stats.StoredBytes != v1.Stats.StoredBytes || v.Stats.Chunks != v1.Stats.Chunks {
				t.Errorf("stored bytes %d in %d chunks, the first version's %d in %d (same content)", v.Stats.StoredBytes, v.Stats.Chunks, v1.Stats.StoredBytes, v1.Stats.Chunks)
			}
		})
	}
}
