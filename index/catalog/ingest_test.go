package catalog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// A version's records are one table at the bottom of the database, found
// by path and listed in key order (directory first, which is not the
// list's path order), whether they were sorted in memory or in spilled
// runs; of two records of one path the later is kept, as a batch would.
func TestVersionFilesIngested(t *testing.T) {
	for _, tc := range []struct {
		name      string
		sortBytes int
	}{
		{"sorted in memory", 16 << 20},
		{"sorted in spilled runs", 4 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(b, n int) { ingestSortBytes, ingestMinFiles = b, n }(ingestSortBytes, ingestMinFiles)
			ingestSortBytes, ingestMinFiles = tc.sortBytes, 100
			c := openTestCatalog(t)
			ref := format.ObjectRef{Cluster: "c", Database: "d", Table: "t"}
			at := time.Unix(1700000000, 0).UTC()
			// Path order, as a file list is: "a-b/..." < "a/..." < "a0",
			// while keys sort "a" before "a-b" before "a/b".
			paths := []string{"dup"} // recorded again last: in another run when spilled
			for i := range 300 {
				paths = append(paths, fmt.Sprintf("a-b/f%03d", i))
			}
			for i := range 300 {
				paths = append(paths, fmt.Sprintf("a/b/f%03d", i), fmt.Sprintf("a/f%03d", i))
			}
			paths = append(paths, "a0")
			m := &format.Manifest{Format: format.FormatVersion, Time: at, Kind: "test",
				Object: format.RawObject{Cluster: format.RawString(ref.Cluster), Database: format.RawString(ref.Database), Table: format.RawString(ref.Table)}}
			for i, p := range paths {
				f := format.File{Entry: sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o644, ModTime: at, Size: int64(i)}}
				m.Files = append(m.Files, format.ToFileRecord(f))
			}
			dup := format.ToFileRecord(format.File{Entry: sources.Entry{Path: "dup", Type: sources.TypeFile, Mode: 0o600, ModTime: at, Size: 99999}})
			m.Files = append(m.Files, dup)
			name := format.VersionName(ref, at)
			if err := c.AddVersion(name, m); err != nil {
				t.Fatal(err)
			}
			v := m.Version(name)
			seen := map[string]bool{}
			var prev string
			err := c.EachFile(v, func(f format.File) {
				seen[f.Path] = true
				d, _ := format.SplitPath(f.Path)
				if prev != "" && DirBefore(d, prev) {
					t.Errorf("%s listed after directory %s", f.Path, prev)
				}
				prev = d
			})
			if err != nil || len(seen) != len(paths) {
				t.Fatalf("listed %d files (%v), want %d", len(seen), err, len(paths))
			}
			for i, p := range paths[1:] {
				i++
				f, err := c.Lookup(v, p)
				if err != nil || f.Size != int64(i) {
					t.Fatalf("lookup %s: size %d (%v), want %d", p, f.Size, err, i)
				}
			}
			if f, err := c.Lookup(v, "dup"); err != nil || f.Size != 99999 || f.Mode != 0o600 {
				t.Fatalf("lookup of a path recorded twice: %+v (%v), want the later record", f, err)
			}
			tables, err := c.db.SSTables()
			if err != nil {
				t.Fatal(err)
			}
			prefix := filesPrefix(versionID(name))
			for level, ts := range tables {
				for _, tb := range ts {
					if bytes.HasPrefix(tb.Smallest.UserKey, prefix) && level != len(tables)-1 {
						t.Errorf("the version's records in a table at level %d, want the bottom (%d)", level, len(tables)-1)
					}
				}
			}
		})
	}
}

// A table left by a process that died before ingesting it is removed when
// the catalog is next opened.
func TestStaleIngestRemoved(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(context.Background(), dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	stale := filepath.Join(dir, ingestPrefix+"123.sst")
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = Open(context.Background(), dir, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale table after open: %v", err)
	}
}
