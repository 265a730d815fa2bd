package index

import (
	"context"
	"errors"
	"testing"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// hookSource is a memSource that runs during before it returns: the
// moment a stalled backup is in, with its chunks written but not
// committed.
type hookSource struct {
	*memSource
	during func()
}

func (h *hookSource) Backup(ctx context.Context, obj sources.Object, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	res, err := h.memSource.Backup(ctx, obj, prev, w)
	h.during()
	return res, err
}

// A backup whose lock was taken for stale (here: deleted, as a backup or
// prune of another host does after 5 minutes without a refresh) and
// that a prune ran under fails instead of committing a version whose
// chunks the prune may have deleted; the earlier version stays readable.
func TestBackupFailsWhenPrunedUnderIt(t *testing.T) {
	ctx := context.Background()
	st, be := newTestStoreIn(t, t.TempDir(), t.TempDir())
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	old := randBytes(1, 200<<10)
	v1, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": old}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &hookSource{memSource: &memSource{files: map[string][]byte{"a": old, "b": randBytes(2, 200<<10)}}, during: func() {
		if err := be.List(ctx, "locks/", func(oi backends.ObjectInfo) error { return be.Delete(ctx, oi.Name) }); err != nil {
			t.Error(err)
		}
		other, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
		if err != nil {
			t.Error(err)
			return
		}
		defer other.Close()
		if _, err := other.Prune(ctx, false, nil); err != nil {
			t.Error(err)
		}
	}}
	_, err = st.Backup(ctx, src, obj, BackupOptions{})
	if !errors.Is(err, errPrunedDuring) {
		t.Fatalf("backup pruned under: %v", err)
	}
	if err := st.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	vs, err := st.Versions(ctx, ObjectRef{Cluster: "c", Database: "d", Table: "t"})
	if err != nil || len(vs) != 1 || vs[0].Name != v1.Name {
		t.Fatalf("versions after the failed backup: %v, %v", vs, err)
	}
	if res, err := st.Check(ctx, nil); err != nil || len(res.Damage) > 0 {
		t.Fatalf("check after the failed backup: %+v, %v", res.Damage, err)
	}
}
