package index

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/backends/faulty"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// damagedStore is three versions (a twice, b once), each from its own
// backup (so with its own index file), in a local store at dir.
type damagedStore struct {
	dir          string
	be           backends.Backend
	a1, a2, b1   Version
	dataA, dataB []byte
}

func newDamagedStore(t *testing.T) *damagedStore {
	t.Helper()
	ctx := context.Background()
	d := &damagedStore{dir: t.TempDir(), dataA: randBytes(1, 300<<10), dataB: randBytes(3, 300<<10)}
	st, be := newTestStoreIn(t, d.dir, t.TempDir())
	d.be = be
	backup := func(table string, files map[string][]byte, at int64) Version {
		v, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(at, 0).UTC()}, sources.Object{Cluster: "c", Database: "d", Table: table}, BackupOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	d.a1 = backup("a", map[string][]byte{"x": d.dataA}, 1700000000)
	d.b1 = backup("b", map[string][]byte{"x": d.dataB}, 1700000100)
	d.a2 = backup("a", map[string][]byte{"x": randBytes(2, 300<<10), "y": []byte("new")}, 1700000200)
	st.Close()
	return d
}

// listLoc is where v's file list chunk is stored.
func (d *damagedStore) listLoc(t *testing.T, v Version) format.BlobLoc {
	t.Helper()
	st, err := Open(context.Background(), d.be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cat, err := st.catalog()
	if err != nil {
		t.Fatal(err)
	}
	loc, ok, err := cat.Chunk(v.FileList[0].ID)
	if err != nil || !ok {
		t.Fatalf("locate file list chunk of %s: %v %v", v.Name, ok, err)
	}
	return loc
}

// flipListChunk damages one byte in the middle of v's file list chunk.
func (d *damagedStore) flipListChunk(t *testing.T, v Version) {
	t.Helper()
	loc := d.listLoc(t, v)
	path := filepath.Join(d.dir, format.PackName(loc.Pack))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[loc.Offset+loc.Length/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// indexOf returns the name of the index file that lists v's file list
// chunk.
func (d *damagedStore) indexOf(t *testing.T, v Version) string {
	t.Helper()
	names, err := format.ListNames(context.Background(), d.be, "indexes/")
	if err != nil {
		t.Fatal(err)
	}
	for name := range names {
		idx, err := format.ReadIndexFile(context.Background(), d.be, name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range idx.Packs {
			for _, b := range p.Blobs {
				if b.ID == v.FileList[0].ID {
					return name
				}
			}
		}
	}
	t.Fatalf("no index lists %s's file list", v.Name)
	return ""
}

// A damaged manifest, file list chunk or index file is left out of a
// new catalog instead of failing every command: the other versions list
// and read, check names the damage (and what it hides), prune refuses
// until the damaged object is gone from the store, and then goes on.
func TestDamageLeavesTheRestReadable(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		// damage damages the store and returns the backend object that
		// is damaged (and must be deleted before prune goes on).
		damage func(t *testing.T, d *damagedStore) string
		// hidden are the versions that cannot be listed.
		hidden func(d *damagedStore) []Version
	}{
		{
			name: "file list chunk",
			damage: func(t *testing.T, d *damagedStore) string {
				d.flipListChunk(t, d.a2)
				return d.a2.Name
			},
			hidden: func(d *damagedStore) []Version { return []Version{d.a2} },
		},
		{
			name: "truncated pack",
			damage: func(t *testing.T, d *damagedStore) string {
				path := filepath.Join(d.dir, format.PackName(d.listLoc(t, d.a2).Pack))
				if err := os.Truncate(path, int64(d.listLoc(t, d.a2).Offset)); err != nil {
					t.Fatal(err)
				}
				return d.a2.Name
			},
			hidden: func(d *damagedStore) []Version { return []Version{d.a2} },
		},
		{
			// A crafted manifest (files inline, as before format 4)
			// whose paths climb out of a restore's target.
			name: "path out of the target",
			damage: func(t *testing.T, d *damagedStore) string {
				m, err := format.ReadManifest(ctx, d.be, d.a2.Name)
				if err != nil {
					t.Fatal(err)
				}
				m.FileList = nil
				m.Files = []format.FileRecord{
					{Path: "a", Type: uint8(sources.TypeDir), Mode: 0o755},
					{Path: "a/../../escaped", Type: uint8(sources.TypeFile), Mode: 0o644},
				}
				data, err := format.EncodeManifest(m)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.be.Put(ctx, d.a2.Name, data); err != nil {
					t.Fatal(err)
				}
				return d.a2.Name
			},
			hidden: func(d *damagedStore) []Version { return []Version{d.a2} },
		},
		{
			name: "manifest",
			damage: func(t *testing.T, d *damagedStore) string {
				if err := d.be.Put(ctx, d.a2.Name, []byte("not a manifest")); err != nil {
					t.Fatal(err)
				}
				return d.a2.Name
			},
			hidden: func(d *damagedStore) []Version { return []Version{d.a2} },
		},
		{
			name: "index file",
			damage: func(t *testing.T, d *damagedStore) string {
				name := d.indexOf(t, d.a2)
				if err := d.be.Put(ctx, name, []byte("not an index")); err != nil {
					t.Fatal(err)
				}
				return name
			},
			// a2's file list is in no index now.
			hidden: func(d *damagedStore) []Version { return []Version{d.a2} },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDamagedStore(t)
			bad := tc.damage(t, d)
			st, err := Open(ctx, d.be, Options{CacheDir: t.TempDir()})
			if err != nil {
				t.Fatalf("open with a new catalog: %v", err)
			}
			defer st.Close()
			hidden := tc.hidden(d)
			var listed []string
			for _, ref := range []ObjectRef{d.a1.Object, d.b1.Object} {
				vs, err := st.Versions(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range vs {
					listed = append(listed, v.Name)
				}
			}
			for _, v := range []Version{d.a1, d.b1} {
				if !slices.Contains(listed, v.Name) {
					t.Fatalf("healthy version %s not listed: %v", v.Name, listed)
				}
			}
			for _, v := range hidden {
				if slices.Contains(listed, v.Name) {
					t.Fatalf("damaged version %s listed", v.Name)
				}
			}
			if got := readAll(t, st, d.a1, "x"); !bytes.Equal(got, d.dataA) {
				t.Fatal("a1 reads wrong")
			}
			if got := readAll(t, st, d.b1, "x"); !bytes.Equal(got, d.dataB) {
				t.Fatal("b1 reads wrong")
			}

			res, err := st.Check(ctx, nil)
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			var named bool
			for _, dm := range res.Damage {
				named = named || slices.Contains(dm.Affected, bad)
			}
			if !named {
				t.Fatalf("check does not name %s: %+v", bad, res.Damage)
			}

			_, err = st.Prune(ctx, true, nil)
			if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), bad) {
				t.Fatalf("prune with %s damaged: %v", bad, err)
			}
			// Deleting what is damaged (and, for an index, the versions
			// it hid) lifts the refusal.
			if err := d.be.Delete(ctx, bad); err != nil {
				t.Fatal(err)
			}
			for _, v := range hidden {
				if v.Name != bad {
					if err := d.be.Delete(ctx, v.Name); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := st.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Prune(ctx, true, nil); err != nil {
				t.Fatalf("prune after the damaged object was deleted: %v", err)
			}
		})
	}
}

// A backend that fails to serve a manifest or a pack (unreachable, not
// damaged) fails the sync, as before: recording the version as damaged
// would hide it, and let prune treat its data as garbage, for a network
// blip.
func TestUnreachableIsNotDamage(t *testing.T) {
	ctx := context.Background()
	for _, prefix := range []string{"versions/", "packs/", "indexes/"} {
		t.Run(prefix, func(t *testing.T) {
			d := newDamagedStore(t)
			fb := faulty.New(d.be)
			fb.FailPrefix(faulty.Get, prefix, errors.New("injected: connection reset"))
			cache := t.TempDir()
			if st, err := Open(ctx, fb, Options{CacheDir: cache}); err == nil {
				st.Close()
				t.Fatal("open succeeded while the backend failed")
			} else if !strings.Contains(err.Error(), "injected") {
				t.Fatalf("open: %v", err)
			}
			st, err := Open(ctx, d.be, Options{CacheDir: cache})
			if err != nil {
				t.Fatalf("open once the backend answers: %v", err)
			}
			defer st.Close()
			vs, err := st.Versions(ctx, d.a1.Object)
			if err != nil || len(vs) != 2 {
				t.Fatalf("versions of a once the backend answers: %v, %v", vs, err)
			}
		})
	}
}
