package index

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

// Entries merge back in path order, one per path (the last recorded),
// with the directories they imply, whether the list stayed in memory or
// was written as many runs.
func TestListRunsMerge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int
	}{{"in memory", 1 << 30}, {"runs of a few entries", 300}, {"a run per entry", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newListRuns(t.TempDir())
			l.limit = tc.limit
			defer l.close()
			t0 := time.Unix(1700000000, 0)
			add := func(path string, typ sources.EntryType, size int64, mt time.Time) {
				f := File{Entry: sources.Entry{Path: path, Type: typ, Size: size, ModTime: mt}}
				if err := l.add(&f, nil, []byte(fmt.Sprintf("%s:%d", path, size))); err != nil {
					t.Fatal(err)
				}
			}
			add("b/x", sources.TypeFile, 1, t0)
			add("a", sources.TypeDir, 0, t0)
			add("a/2", sources.TypeFile, 2, t0.Add(time.Hour))
			add("a/1", sources.TypeFile, 1, t0)
			add("b/y/z", sources.TypeFile, 3, t0.Add(2*time.Hour))
			add("a/1", sources.TypeFile, 5, t0) // recorded again: this one counts
			add("a-b", sources.TypeFile, 4, t0)
			if err := l.finish(); err != nil {
				t.Fatal(err)
			}
			implied := l.implied(sources.Entry{Type: sources.TypeDir, Mode: 0o755, ModTime: t0.Add(-time.Hour)})
			want := []string{"a:0", "a-b:4", "a/1:5", "a/2:2", "b@" + t0.Add(2*time.Hour).UTC().Format(time.RFC3339), "b/x:1", "b/y@" + t0.Add(2*time.Hour).UTC().Format(time.RFC3339), "b/y/z:3"}
			for pass := range 2 { // merged as often as needed
				m := l.merge(implied)
				var got []string
				for {
					e, ok, err := m.next()
					if err != nil {
						t.Fatal(err)
					}
					if !ok {
						break
					}
					if e.typ == sources.TypeDir && e.path != "a" {
						got = append(got, e.path+"@"+e.mtime.UTC().Format(time.RFC3339))
						continue
					}
					got = append(got, string(e.line))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("pass %d: got %q, want %q", pass, got, want)
				}
			}
		})
	}
}

// A backup whose list is written as many runs stores the same list
// chunks and counts as one that held it in memory (the same entries
// backed up again: the same list).
func TestBackupListRunsSameList(t *testing.T) {
	ctx := context.Background()
	files := map[string][]byte{}
	for i := range 3000 {
		files[fmt.Sprintf("dir%02d/sub%d/file%05d.txt", i%30, i%7, i)] = []byte(fmt.Sprintf("content %d\n", i%1000))
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	var got []Version
	st, _, _ := newTestStore(t) // one store: one chunker seed
	for i, limit := range []int{1 << 30, 4 << 10} {
		saved := listRunBytes
		listRunBytes = limit
		v, err := st.Backup(ctx, &memSource{files: files, at: time.Unix(1700000000+int64(i)*100, 0)}, obj, BackupOptions{})
		listRunBytes = saved
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := st.Walk(ctx, v, "", func(File) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != 3000+30+210 {
			t.Fatalf("limit %d: the version has %d entries, want 3,240 (files and implied directories)", limit, n)
		}
		got = append(got, v)
	}
	a, b := got[0], got[1]
	if fmt.Sprint(a.FileList) != fmt.Sprint(b.FileList) || a.Stats.Files != b.Stats.Files || a.Stats.Dirs != b.Stats.Dirs ||
		a.Stats.Bytes != b.Stats.Bytes || a.Stats.Chunks != b.Stats.Chunks || a.Stats.StoredBytes != b.Stats.StoredBytes {
		t.Fatalf("lists differ:\n%+v %v\n%+v %v", a.Stats, a.FileList, b.Stats, b.FileList)
	}
	if a.Stats.Chunks != 1000 || a.Stats.Files != 3000 || a.Stats.Dirs != 240 {
		t.Fatalf("stats %+v: want 3,000 files, 240 directories, 1,000 chunks", a.Stats)
	}
}

// TestDistinctChunks: each chunk once, first mentions in order; the list
// itself when none repeats (what tells a record holds a back reference).
func TestDistinctChunks(t *testing.T) {
	var a, b ID
	a[0], b[31] = 0xab, 0x01
	repeated := []ChunkRef{{ID: a, Size: 7}, {ID: b, Size: 9, Off: 3}, {ID: a, Size: 1 << 21}}
	if got := distinctChunks(repeated); len(got) != 2 || got[0] != repeated[0] || got[1] != repeated[1] {
		t.Fatalf("distinct chunks of a, b, a: %v", got)
	}
	if got := distinctChunks(repeated[:2]); len(got) != 2 {
		t.Fatalf("a and b, repeating nothing: %v", got)
	}
}
