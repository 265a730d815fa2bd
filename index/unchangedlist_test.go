package index

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// twiceSource records the previous version's directories again, keeps
// one file twice and leaves another out (as many records as the previous
// version had entries, none of them new, and still not its list), then
// adds a file when add is set (after every previous entry was recorded
// again).
type twiceSource struct{ keep, drop, add string }

func (twiceSource) Kind() string { return "mem" }
func (twiceSource) Close() error { return nil }
func (twiceSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "t"}}, nil
}

func (s twiceSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	for _, p := range prev.Entries() {
		if p.Type == sources.TypeDir {
			if err := w.Add(ctx, p, nil); err != nil {
				return sources.Result{}, err
			}
			continue
		}
		if p.Path == s.drop {
			continue
		}
		n := 1
		if p.Path == s.keep {
			n = 2
		}
		for range n {
			if err := w.Keep(ctx, p); err != nil {
				return sources.Result{}, err
			}
		}
	}
	if s.add != "" {
		data := []byte("added\n")
		e := sources.Entry{Path: s.add, Type: sources.TypeFile, Mode: 0o640, ModTime: time.Unix(1700000000, 0).UTC(), Size: int64(len(data))}
		if err := w.Add(ctx, e, bytes.NewReader(data)); err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{At: time.Unix(1700000200, 0)}, nil
}

// A re-backup whose every entry (the implied directories too) repeats
// its previous line, and no other, takes the previous list as it is; any
// other change makes a list of its own, and every version lists what its
// source gave it.
func TestUnchangedListIsThePreviousOne(t *testing.T) {
	ctx := context.Background()
	base := func() map[string][]byte {
		files := map[string][]byte{}
		for i := range 300 {
			files[fmt.Sprintf("dir%02d/file%03d.txt", i%7, i)] = []byte(fmt.Sprintf("content %d\n", i))
		}
		return files
	}
	for _, tc := range []struct {
		name      string
		change    func(files map[string][]byte, modes map[string]uint32, keep map[string]bool)
		unchanged bool
		same      bool // the source tries KeepSame first
	}{
		{"nothing, KeepSame", func(map[string][]byte, map[string]uint32, map[string]bool) {}, true, true},
		{"mode, KeepSame", func(_ map[string][]byte, modes map[string]uint32, _ map[string]bool) {
			modes["dir03/file003.txt"] = 0o600
		}, false, true},
		{"content, KeepSame", func(files map[string][]byte, _ map[string]uint32, _ map[string]bool) {
			files["dir03/file003.txt"] = []byte("other content\n")
		}, false, true},
		{"nothing", func(map[string][]byte, map[string]uint32, map[string]bool) {}, true, false},
		{"kept", func(files map[string][]byte, _ map[string]uint32, keep map[string]bool) {
			for p := range files {
				keep[p] = true
			}
		}, true, false},
		{"content", func(files map[string][]byte, _ map[string]uint32, _ map[string]bool) {
			files["dir03/file003.txt"] = []byte("other\n")
		}, false, false},
		{"mode", func(_ map[string][]byte, modes map[string]uint32, _ map[string]bool) {
			modes["dir03/file003.txt"] = 0o600
		}, false, false},
		{"removed", func(files map[string][]byte, _ map[string]uint32, _ map[string]bool) {
			delete(files, "dir04/file004.txt")
		}, false, false},
		{"directory gone", func(files map[string][]byte, _ map[string]uint32, _ map[string]bool) {
			for p := range files {
				if strings.HasPrefix(p, "dir05/") {
					delete(files, p)
				}
			}
		}, false, false},
		{"added", func(files map[string][]byte, _ map[string]uint32, _ map[string]bool) {
			files["new/file.txt"] = []byte("new\n")
		}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _, _ := newTestStore(t)
			defer st.Close()
			files, modes, keep := base(), map[string]uint32{}, map[string]bool{}
			obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
			v1, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(1700000000, 0)}, obj, BackupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			tc.change(files, modes, keep)
			before := listsUnchanged.Load()
			v2, err := st.Backup(ctx, &memSource{files: files, modes: modes, keep: keep, same: tc.same, at: time.Unix(1700000100, 0)}, obj, BackupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for p, data := range files {
				if got := readAll(t, st, v2, p); !bytes.Equal(got, data) {
					t.Fatalf("%s reads %q, want %q", p, got, data)
				}
			}
			if got := listsUnchanged.Load() - before; got != map[bool]int64{true: 1}[tc.unchanged] {
				t.Errorf("list taken as unchanged %d times, want %v", got, tc.unchanged)
			}
			if same := slices.Equal(v1.FileList, v2.FileList); same != tc.unchanged {
				t.Errorf("same list chunks: %v, want %v", same, tc.unchanged)
			}
			if tc.unchanged && (v2.Stats.Files != v1.Stats.Files || v2.Stats.Dirs != v1.Stats.Dirs || v2.Stats.Bytes != v1.Stats.Bytes) {
				t.Errorf("stats %+v, want the first version's %+v", v2.Stats, v1.Stats)
			}
			checkListed(t, st, v2, files, modes)
		})
	}
	for _, src := range []twiceSource{
		{keep: "dir01/file001.txt", drop: "dir02/file002.txt"},
		{add: "dir01/zz-added-last.txt"},
	} {
		t.Run(fmt.Sprintf("%+v", src), func(t *testing.T) {
			st, _, _ := newTestStore(t)
			defer st.Close()
			files := base()
			obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
			if _, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(1700000000, 0)}, obj, BackupOptions{}); err != nil {
				t.Fatal(err)
			}
			before := listsUnchanged.Load()
			v2, err := st.Backup(ctx, src, obj, BackupOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if listsUnchanged.Load() != before {
				t.Error("list taken as unchanged")
			}
			delete(files, src.drop)
			if src.add != "" {
				files[src.add] = []byte("added\n")
			}
			checkListed(t, st, v2, files, nil)
		})
	}
}

// checkListed checks that v lists exactly files, with their sizes and
// modes (0640 unless in modes).
func checkListed(t *testing.T, st *Store, v Version, files map[string][]byte, modes map[string]uint32) {
	t.Helper()
	seen := 0
	err := st.Walk(context.Background(), v, "", func(f File) error {
		if f.Type != sources.TypeFile {
			return nil
		}
		seen++
		data, ok := files[f.Path]
		mode, set := modes[f.Path]
		if !set {
			mode = 0o640
		}
		if !ok || f.Size != int64(len(data)) || f.Mode != mode {
			t.Errorf("%s: listed size %d mode %o; want it listed: %v, size %d, mode %o", f.Path, f.Size, f.Mode, ok, len(data), mode)
		}
		return nil
	})
	if err != nil || seen != len(files) || v.Stats.Files != int64(len(files)) {
		t.Fatalf("%s: %d files listed, stats %d, %v; want %d", v.Name, seen, v.Stats.Files, err, len(files))
	}
}
