package index

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/sources"
)

// Two hosts (stores with their own catalogs) back up the same table in the
// same second, again and again: no version may overwrite another, every
// backup must be listed afterwards.
func TestCommitsFromTwoHostsNeverOverwrite(t *testing.T) {
	ctx := context.Background()
	_, be, _ := newTestStore(t)
	hosts := make([]*Store, 3)
	for i := range hosts {
		st, err := Open(ctx, be, Options{CacheDir: t.TempDir(), Mode: Detached})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		hosts[i] = st
	}
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	at := time.Unix(1700000000, 0).UTC()
	const rounds = 6
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(hosts))
	for r := 0; r < rounds; r++ {
		for h, st := range hosts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				src := &memSource{files: map[string][]byte{"f": []byte(fmt.Sprintf("host %d round %d", h, r))}, at: at}
				if _, err := st.Backup(ctx, src, obj, BackupOptions{}); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var n int
	if err := be.List(ctx, "versions/", func(backends.ObjectInfo) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != rounds*len(hosts) {
		t.Fatalf("%d manifests after %d backups: some overwrote others", n, rounds*len(hosts))
	}
}
