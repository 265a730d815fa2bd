package index

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// A backup writes its index in parts as packs fill (sessionIndexBlobs),
// not whole at the end; the version reads back from the backend alone.
func TestIndexWrittenInParts(t *testing.T) {
	defer func(n int) { sessionIndexBlobs = n }(sessionIndexBlobs)
	sessionIndexBlobs = 1
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	rng := rand.New(rand.NewPCG(1, 2))
	files := map[string][]byte{}
	for i := range 6 {
		b := make([]byte, 8<<20)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		files[fmt.Sprintf("f%d", i)] = b
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(1700000000, 0)}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := be.List(ctx, "indexes/", func(backends.ObjectInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Fatalf("%d index files for 48 MiB in 16 MiB packs; want one per full pack plus the rest", n)
	}
	st.Close()
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for p, want := range files {
		if got := readAll(t, st2, v, p); !bytes.Equal(got, want) {
			t.Fatalf("%s reads back wrong (%d bytes, want %d)", p, len(got), len(want))
		}
	}
}
