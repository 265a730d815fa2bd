package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
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

// failingSource stores its files, then fails the backup.
type failingSource struct{ memSource }

func (f *failingSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	if _, err := f.memSource.Backup(ctx, obj, prev, w); err != nil {
		return sources.Result{}, err
	}
	return sources.Result{}, errors.New("source went away")
}

// On local disk packs are streamed to temporary files as they fill; a
// backup that fails removes the one it was filling (no temporary file is
// left for a later prune), and a backup that succeeds leaves only packs.
func TestStreamedPacksLeaveNoTemporaries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, _ := newTestStoreIn(t, dir, t.TempDir())
	rng := rand.New(rand.NewPCG(5, 6))
	files := map[string][]byte{}
	for i := range 3 {
		b := make([]byte, 7<<20) // 21 MiB: one full pack and one being filled
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		files[fmt.Sprintf("f%d", i)] = b
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	temporaries := func() (tmp []string, packs int) {
		err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			switch {
			case err != nil || fi.IsDir():
			case strings.HasPrefix(fi.Name(), ".strata-tmp-"):
				tmp = append(tmp, p)
			case strings.Contains(p, "/packs/"):
				packs++
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return tmp, packs
	}
	_, err := st.Backup(ctx, &failingSource{memSource{files: files, at: time.Unix(1700000000, 0)}}, obj, BackupOptions{})
	if err == nil || !strings.Contains(err.Error(), "source went away") {
		t.Fatalf("backup: %v, want the source's error", err)
	}
	if tmp, _ := temporaries(); len(tmp) > 0 {
		t.Fatalf("failed backup left temporary files: %v", tmp)
	}
	v, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(1700000000, 0)}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tmp, packs := temporaries()
	if len(tmp) > 0 || packs < 2 {
		t.Fatalf("after a backup: temporaries %v, %d packs (want none, at least 2)", tmp, packs)
	}
	for p, want := range files {
		if got := readAll(t, st, v, p); !bytes.Equal(got, want) {
			t.Fatalf("%s reads back wrong", p)
		}
	}
}
