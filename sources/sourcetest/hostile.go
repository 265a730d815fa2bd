package sourcetest

import (
	"context"
	"testing"

	"github.com/stratabackup/strata/sources"
)

// testHostile backs up objects with hostile names holding items with
// hostile names: discovery must list them as Setup named them, their
// escaped names must not collide, and every backup must succeed.
func testHostile(t *testing.T, h Harness) {
	var specs []Spec
	for _, n := range HostileNames {
		if h.NameOK == nil || h.NameOK(n) {
			specs = append(specs, hostileSpec(n))
		}
	}
	if len(specs) == 0 {
		// A kind that allows none of the names (Cassandra tables are
		// [A-Za-z0-9_]) still gets the hostile items.
		t.Log("NameOK rejects every hostile name; backing up the hostile items under a plain name")
		specs = append(specs, hostileSpec("hostile_items"))
	}
	src, objs := setup(t, h, specs...)
	found, err := src.Discover(context.Background())
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	escaped := map[string]string{}
	for i, obj := range objs {
		if !discovered(found, obj) {
			t.Errorf("object %q (for name %q) is not among those discovered: %q", obj.String(), specs[i].Name, found)
		}
		key := sources.EscapeName(obj.Cluster) + "/" + sources.EscapeName(obj.Database) + "/" + sources.EscapePath(obj.Table)
		if other, dup := escaped[key]; dup {
			t.Errorf("objects %q and %q escape to the same name %q", other, obj.String(), key)
		}
		escaped[key] = obj.String()
		w, _ := backup(t, src, obj, nil)
		checkEntries(t, w)
		if h.Files {
			checkItems(t, w, specs[i].Items)
		}
	}
}

func discovered(found []sources.Object, obj sources.Object) bool {
	for _, f := range found {
		if f.Cluster == obj.Cluster && f.Database == obj.Database && f.Table == obj.Table {
			return true
		}
	}
	return false
}
