package posix

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestConformance runs the sources suite over temporary directories: one
// directory per object, configured under the object's name as table.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{
		Setup:  setupDirs,
		Change: func(t *testing.T, obj sources.Object, item sourcetest.Item) { writeItem(t, obj.Meta["path"], item) },
		NameOK: func(name string) bool { return checkTable(name) == nil },
		Files:  true,
		Reuses: true,
	})
}

// setupDirs writes each spec's items under a directory of its own and
// configures a source with the spec names as tables.
func setupDirs(t *testing.T, specs []sourcetest.Spec) (sources.Source, []sources.Object) {
	t.Helper()
	roots := map[string]string{}
	for _, spec := range specs {
		dir := t.TempDir()
		for _, it := range spec.Items {
			writeItem(t, dir, it)
		}
		roots[spec.Name] = dir
	}
	s, err := New(Config{Cluster: "c", Database: "d", Roots: roots})
	if err != nil {
		t.Fatal(err)
	}
	objs := make([]sources.Object, len(specs))
	for i, spec := range specs {
		objs[i] = sources.Object{Cluster: "c", Database: "d", Table: spec.Name, Meta: map[string]string{"path": s.cfg.Roots[spec.Name]}}
	}
	return s, objs
}

func writeItem(t *testing.T, root string, it sourcetest.Item) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(it.Name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, it.Data, 0o644); err != nil {
		t.Fatal(err)
	}
}
