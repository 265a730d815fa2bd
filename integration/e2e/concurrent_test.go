package e2e

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/index"
)

// TestConcurrentBackups runs two backup processes into one store at once,
// of two different tables and of one table (different data): both must
// land as versions (one table: at distinct times), restore intact, and
// the store must check clean.
func TestConcurrentBackups(t *testing.T) {
	cases := []struct {
		name           string
		table1, table2 string
	}{
		{"different tables", "t1", "t2"},
		{"same table", "t", "t"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.t = t
			srcs := [2]string{e.path("src1"), e.path("src2")}
			tables := [2]string{tc.table1, tc.table2}
			var want [2]map[string]string
			for i, src := range srcs {
				writeRandom(t, filepath.Join(src, "data"), uint64(300+i), 96<<20)
				for j := range 20 {
					writeRandom(t, filepath.Join(src, fmt.Sprintf("dir/f%02d", j)), uint64(400+20*i+j), int64(1000*j))
				}
				want[i] = treeSums(t, src)
			}
			var bs [2]*bgCmd
			for i := range bs {
				bs[i] = e.start("--json", "backup", "posix", "--cluster", "c", "--db", "d", tables[i]+"="+srcs[i])
			}
			var vs [2]index.Version
			for i, b := range bs {
				r := b.wait()
				if r.code != 0 {
					diagnose(t, r)
					t.Fatalf("backup %d of 2:\n%s", i+1, r)
				}
				vs[i] = parseBackup(t, r)
			}
			if vs[0].Object == vs[1].Object && vs[0].Time.Equal(vs[1].Time) {
				t.Fatalf("two versions of %s at the same time %s", vs[0].Object, index.TimeName(vs[0].Time))
			}
			listed := e.versions()
			if len(listed) != 2 {
				t.Fatalf("want 2 versions listed, got %+v", listed)
			}
			for i, v := range vs {
				found := false
				for _, l := range listed {
					found = found || (l.Object == v.Object && l.Time.Equal(v.Time))
				}
				if !found {
					t.Errorf("version %s reported by backup is not listed", spec(v))
				}
				sameTree(t, spec(v), want[i], treeSums(t, e.restore(v)))
			}
			e.ok("check")
		})
	}
}
