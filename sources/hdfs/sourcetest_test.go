package hdfs

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"path"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	hdfs "github.com/colinmarc/hdfs/v2"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestConformance runs the sources suite on the harness's HDFS, under the
// snapshottable directory, so every backup reads from a snapshot: one
// directory per object, configured under the object's name as table.
func TestConformance(t *testing.T) {
	c := testClient(t)
	pool := &fixtures{c: c, base: testDir(t, c, harness.HDFSSnapshotDir+"/conformance"), dirs: map[string]*fixture{}}
	sourcetest.Run(t, sourcetest.Harness{
		Setup: pool.setup,
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) {
			pool.change(t, obj.Meta["path"], item)
		},
		NameOK: func(name string) bool { return checkTable(name) == nil && !strings.Contains(name, "=") },
		Files:  true,
		Reuses: true,
	})
}

// fixtures reuses the directory of a spec the suite asked for before,
// whatever set it came in: creating the 1,500 files of the big spec takes
// long on a busy machine, and a backup changes nothing, so a directory is
// fresh again once the items Change rewrote are written back.
type fixtures struct {
	c    *hdfs.Client
	base string
	mu   sync.Mutex
	dirs map[string]*fixture // by hash of the spec and its place among equal ones
}

// fixture is one spec's directory, and the items changed since they were
// written.
type fixture struct {
	dir     string
	items   map[string][]byte // path -> spec content
	changed map[string]bool
}

// setup writes (or restores) each spec's items under a directory of its
// own. HDFS names are Java strings: a name that is not valid UTF-8
// cannot be stored, so a fixture holding one is skipped with that reason
// (TestHostileItemNames covers the other hostile names).
func (p *fixtures) setup(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	for _, spec := range specs {
		for _, it := range spec.Items {
			if !utf8.ValidString(it.Name) {
				t.Skipf("item name %q: HDFS stores names as Java strings, so invalid UTF-8 cannot be written", it.Name)
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	write, restore := map[string][]byte{}, map[string][]byte{}
	fs := make([]*fixture, len(specs))
	seen := map[string]int{}
	for i, spec := range specs {
		key := specKey(spec)
		seen[key]++
		key = fmt.Sprintf("%s/%d", key, seen[key])
		f := p.dirs[key]
		if f == nil {
			f = &fixture{dir: path.Join(p.base, fmt.Sprintf("f%d", len(p.dirs))), items: map[string][]byte{}, changed: map[string]bool{}}
			for _, it := range spec.Items {
				f.items[path.Join(f.dir, it.Name)] = it.Data
			}
			maps.Copy(write, f.items)
			p.dirs[key] = f
		}
		for name := range f.changed {
			restore[name] = f.items[name]
		}
		f.changed = map[string]bool{}
		fs[i] = f
	}
	maps.Copy(write, restore)
	putMany(t, p.c, write)
	var dirs []string
	for i, spec := range specs {
		dirs = append(dirs, spec.Name+"="+fs[i].dir)
	}
	s := newTestSource(t, dirs...)
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		objs[i] = s.cfg.objectOf(spec.Name, fs[i].dir)
	}
	return s, objs
}

// change rewrites one item and remembers to restore it.
func (p *fixtures) change(t *testing.T, dir string, item sourcetest.Item) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	name := path.Join(dir, item.Name)
	writeHDFS(t, p.c, name, item.Data)
	for _, f := range p.dirs {
		if _, ok := f.items[name]; ok {
			f.changed[name] = true
		}
	}
}

// specKey identifies a spec by its name and contents.
func specKey(s sourcetest.Spec) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00", s.Name)
	for _, it := range s.Items {
		fmt.Fprintf(h, "%q\x00%x\x00", it.Name, it.Data)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
