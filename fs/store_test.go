package fs

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/posix"
)

// TestRealStore backs up a directory twice into a real store on the local
// disk and reads both versions and their diff through the mount.
func TestRealStore(t *testing.T) {
	ctx := context.Background()
	src := t.TempDir()
	big := make([]byte, 5<<20+77)
	rand.Read(big)
	write := func(p string, data []byte) {
		t.Helper()
		full := filepath.Join(src, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	write("big.bin", big)
	write("sub/a.txt", []byte("one\n"))
	write("gone.txt", []byte("bye\n"))

	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := index.Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	store, err := index.Open(ctx, be, index.Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	source, err := posix.New(posix.Config{Cluster: "host", Database: "files", Roots: map[string]string{"data/set": src}})
	if err != nil {
		t.Fatal(err)
	}
	obj := sources.Object{Cluster: "host", Database: "files", Table: "data/set"}
	v1, err := store.Backup(ctx, source, obj, index.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(v1.Time.Add(1100 * time.Millisecond)))
	write("sub/a.txt", []byte("two, longer\n"))
	os.Remove(filepath.Join(src, "gone.txt"))
	v2, err := store.Backup(ctx, source, obj, index.BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}

	tbl := filepath.Join(mountTest(t, FromStore(store)), "host", "files", "data", "set")
	n1, n2 := index.TimeName(v1.Time), index.TimeName(v2.Time)
	if got := names(t, tbl); !slices.Equal(got, []string{n1, n2, "@at", "@diff", "latest"}) {
		t.Errorf("table lists %q", got)
	}
	for p, want := range map[string]string{
		n1 + "/big.bin": string(big), n1 + "/sub/a.txt": "one\n", n1 + "/gone.txt": "bye\n",
		n2 + "/big.bin": string(big), "latest/sub/a.txt": "two, longer\n",
		"@diff/" + n1 + ".." + n2 + "/sub/a.txt": "two, longer\n",
		"@diff/" + n1 + ".." + n2 + "/.deleted":  "gone.txt\n",
	} {
		b, err := os.ReadFile(filepath.Join(tbl, p))
		if err != nil || string(b) != want {
			t.Errorf("%s: read %d bytes, %v; want %d bytes equal", p, len(b), err, len(want))
		}
	}
	st, err := os.Stat(filepath.Join(src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	mst, err := os.Stat(filepath.Join(tbl, n2, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if mst.Size() != st.Size() || mst.Mode() != st.Mode() || !mst.ModTime().Equal(st.ModTime()) {
		t.Errorf("big.bin: mount shows %v %v %v, source has %v %v %v",
			mst.Size(), mst.Mode(), mst.ModTime(), st.Size(), st.Mode(), st.ModTime())
	}
	if d := names(t, filepath.Join(tbl, "@diff", n1+".."+n2)); strings.Join(d, " ") != ".deleted sub" {
		t.Errorf("diff lists %q", d)
	}
}
