package index

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// storeBytes sums the sizes of everything on the backend but the config.
func storeBytes(t *testing.T, st *Store) int64 {
	t.Helper()
	var n int64
	for _, p := range []string{"packs/", "indexes/", "versions/"} {
		err := st.be.List(context.Background(), p, func(o backends.ObjectInfo) error { n += o.Size; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	return n
}

// A version's file list is stored as chunks: a second version of 20,000
// unchanged files adds only its small manifest, one with a few changed
// files a few list chunks (of 64 KiB on average, 256 KiB at most), and
// every version reads back whole from the backend alone (a rebuilt
// catalog) before and after forget and prune. Unchanged entries' lines
// are copied from the previous list: a file whose content or only whose
// mode changed gets a new line all the same.
func TestFileListSharedBetweenVersions(t *testing.T) {
	ctx := context.Background()
	st, be, cache := newTestStore(t)
	files := map[string][]byte{}
	for i := range 20000 {
		files[fmt.Sprintf("dir%03d/file%05d.txt", i%200, i)] = []byte(fmt.Sprintf("content of file %d\n", i))
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	modes := map[string]uint32{}
	backup := func(at time.Time) (Version, int64) {
		before := storeBytes(t, st)
		v, err := st.Backup(ctx, &memSource{files: files, at: at, modes: modes}, obj, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return v, storeBytes(t, st) - before
	}
	v1, first := backup(time.Unix(1700000000, 0))
	v2, same := backup(time.Unix(1700000100, 0))
	if v2.Stats.NewChunks != 0 || same > 4<<10 {
		t.Fatalf("a version with no change stored %d new chunks, %d bytes (the first: %d bytes); want none and a manifest of a few KiB", v2.Stats.NewChunks, same, first)
	}
	for _, p := range []string{"dir007/file00007.txt", "dir150/file10150.txt"} {
		files[p] = []byte("changed\n")
	}
	modes["dir099/file05099.txt"] = 0o600
	v3, changed := backup(time.Unix(1700000200, 0))
	if changed > 256<<10 || changed > first/10 {
		t.Fatalf("a version with 2 of 20,000 files changed added %d bytes (the first: %d)", changed, first)
	}
	t.Logf("store growth: first %d bytes, no change %d, two files changed %d", first, same, changed)

	check := func(st *Store, vs ...Version) {
		t.Helper()
		for _, v := range vs {
			n := 0
			err := st.Walk(ctx, v, "", func(f File) error {
				if f.Type == sources.TypeFile {
					n++
				}
				return nil
			})
			if err != nil || n != len(files) {
				t.Fatalf("%s: %d files, %v; want %d", v.Name, n, err, len(files))
			}
		}
		if got := readAll(t, st, v3, "dir150/file10150.txt"); !bytes.Equal(got, []byte("changed\n")) {
			t.Fatalf("v3 reads %q", got)
		}
		for _, v := range vs {
			want := uint32(0o640)
			if v.Name == v3.Name {
				want = 0o600
			}
			if f, err := st.Lookup(ctx, v, "dir099/file05099.txt"); err != nil || f.Mode != want {
				t.Fatalf("%s: mode %o, %v; want %o", v.Name, f.Mode, err, want)
			}
		}
	}
	st.Close()
	st2, err := Rebuild(ctx, be, Options{CacheDir: cache})
	if err != nil {
		t.Fatal(err)
	}
	check(st2, v1, v2, v3)
	if got := readAll(t, st2, v1, "dir150/file10150.txt"); !bytes.Equal(got, []byte("content of file 10150\n")) {
		t.Fatalf("v1 reads %q", got)
	}
	if _, err := st2.Forget(ctx, Policy{Last: 1}, []ObjectRef{v3.Object}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := st2.Prune(ctx, false, nil); err != nil {
		t.Fatal(err)
	}
	st2.Close()
	st3, err := Rebuild(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st3.Close()
	check(st3, v3)
	if res, err := st3.Check(ctx, nil); err != nil || len(res.Damage) > 0 {
		t.Fatalf("check after prune: %v %+v", err, res.Damage)
	}
}
