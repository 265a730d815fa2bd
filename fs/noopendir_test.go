package fs

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/stratabackup/strata/index"
)

// The levels above the versions change as backups land and are pruned;
// a listing of them the kernel keeps (as it keeps every listing once
// directories open without the daemon) must not hide the change past the
// one-second refresh. Each level is listed once before the change, so
// that the kernel holds it.
func TestListingsFollowChanges(t *testing.T) {
	for _, m := range readModes {
		t.Run(m.name, func(t *testing.T) { testListingsFollowChanges(t, m.o) })
	}
}

func testListingsFollowChanges(t *testing.T, o Options) {
	cat := fixture()
	dir := t.TempDir()
	mounted := mountInWith(t, context.Background(), dir, cat, o)
	t.Cleanup(func() { _ = mounted.Unmount() })
	supported := mounted.server.KernelSettings().Flags64()&fuse.CAP_NO_OPENDIR_SUPPORT != 0
	if got := mounted.tree.noOpendir.Load(); got != (supported && !o.handles) {
		t.Fatalf("directories open without the daemon = %v; kernel supports it: %v, handles asked: %v", got, supported, o.handles)
	}
	shop := filepath.Join(dir, "prod-cass", "shop")
	levels := []string{dir, filepath.Join(dir, "prod-cass"), shop, tablePath(dir, orders)}
	for _, l := range levels {
		names(t, l)
	}
	cat.add(index.ObjectRef{Cluster: "new-cluster", Database: "d", Table: "t"}, t1)
	cat.add(index.ObjectRef{Cluster: "prod-cass", Database: "shop", Table: "payments"}, t1)
	cat.add(index.ObjectRef{Cluster: "prod-cass", Database: "books", Table: "b"}, t1)
	const t4 = "2026-11-26T00:00:00Z"
	cat.add(orders, t4)
	cat.prune(orders, t1)
	time.Sleep(refreshTimeout + 200*time.Millisecond)
	for _, c := range []struct {
		dir        string
		want, gone string
	}{
		{dir, "new-cluster", ""},
		{filepath.Join(dir, "prod-cass"), "books", ""},
		{shop, "payments", ""},
		{tablePath(dir, orders), t4, t1},
	} {
		got := names(t, c.dir)
		if !slices.Contains(got, c.want) {
			t.Errorf("%s after the change: %q, want %q among them", c.dir, got, c.want)
		}
		if c.gone != "" && slices.Contains(got, c.gone) {
			t.Errorf("%s after the prune: %q still lists %q", c.dir, got, c.gone)
		}
	}
}
