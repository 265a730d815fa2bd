package hdfs

import (
	"crypto/sha256"
	"fmt"
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

// fixtures reuses the directories of a spec set the suite asked for
// before: creating 1,500 HDFS files takes long on a busy machine, and a
// backup changes nothing, so a fixture is fresh again once the items
// Change rewrote are written back.
type fixtures struct {
	c    *hdfs.Client
	base string
	mu   sync.Mutex
	dirs map[string]*fixture // by hash of the specs
}

// fixture is one spec set's directories, and the items changed since
// they were written.
type fixture struct {
	dirs    []string
	items   map[string][]byte // path -> spec content
	changed map[string]bool
}

// setup writes (or restores) each spec's items under a directory of its
// own. HDFS names are Java strings: a name that is not valid UTF-8
// cannot be stored, so a fixture holding one is skipped with that reason
// (TestHostileItemNames covers the other hostile names).
func (p *fixtures) setup(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	key := specKey(specs)
	f := p.dirs[key]
	if f == nil {
		f = &fixture{items: map[string][]byte{}, changed: map[string]bool{}}
		for i, spec := range specs {
			dir := path.Join(p.base, fmt.Sprintf("f%d-%d", len(p.dirs), i))
			for _, it := range spec.Items {
				if !utf8.ValidString(it.Name) {
					t.Skipf("item name %q: HDFS stores names as Java strings, so invalid UTF-8 cannot be written", it.Name)
				}
				f.items[path.Join(dir, it.Name)] = it.Data
			}
			f.dirs = append(f.dirs, dir)
		}
		putMany(t, p.c, f.items)
		p.dirs[key] = f
	}
	restore := map[string][]byte{}
	for name := range f.changed {
		restore[name] = f.items[name]
	}
	putMany(t, p.c, restore)
	f.changed = map[string]bool{}
	var dirs []string
	for i, spec := range specs {
		dirs = append(dirs, spec.Name+"="+f.dirs[i])
	}
	s := newTestSource(t, dirs...)
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		objs[i] = s.cfg.objectOf(spec.Name, f.dirs[i])
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

// specKey identifies a spec set by its names and contents.
func specKey(specs []sourcetest.Spec) string {
	h := sha256.New()
	for _, s := range specs {
		fmt.Fprintf(h, "%q\x00", s.Name)
		for _, it := range s.Items {
			fmt.Fprintf(h, "%q\x00%x\x00", it.Name, it.Data)
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}
