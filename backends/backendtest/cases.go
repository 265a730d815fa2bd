package backendtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stratabackup/strata/backends"
)

func testRoundTrip(t *testing.T, b backends.Backend) {
	for _, size := range []int{0, 1, 1 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			name := fmt.Sprintf("%sroundtrip/deep/dir/%d", root, size)
			data := randomBytes(uint64(size), size)
			put(t, b, name, data)
			equal(t, "get "+name, get(t, b, name, 0, -1), data)
		})
	}
}

func testRangedGet(t *testing.T, b backends.Backend) {
	const size = 1 << 20
	name := root + "ranged"
	data := randomBytes(7, size)
	put(t, b, name, data)
	cases := []struct {
		name        string
		off, length int64
	}{
		{"start", 0, 4096},
		{"middle", 500_000, 1000},
		{"end", size - 10, 10},
		{"tail", size - 100, -1},
		{"whole", 0, size},
		{"empty", 5, 0},
		{"empty at end", size, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			end := int64(size)
			if c.length >= 0 {
				end = c.off + c.length
			}
			equal(t, c.name, get(t, b, name, c.off, c.length), data[c.off:end])
		})
	}
	if _, err := b.Get(context.Background(), name, size-1, 2); err == nil {
		t.Errorf("get past the end: no error")
	}
}

func testOverwrite(t *testing.T, b backends.Backend) {
	name := root + "overwrite"
	put(t, b, name, randomBytes(1, 5000))
	second := randomBytes(2, 300)
	put(t, b, name, second)
	equal(t, "after overwrite", get(t, b, name, 0, -1), second)
	if oi, err := b.Stat(context.Background(), name); err != nil || oi.Size != 300 {
		t.Errorf("stat after overwrite: %+v, %v; want size 300", oi, err)
	}
}

func testList(t *testing.T, b backends.Backend) {
	p := root + "list/"
	sizes := map[string]int{p + "a/1": 1, p + "a/2": 22, p + "a/sub/3": 333, p + "b/1": 4, p + "ab": 5}
	for name, size := range sizes {
		put(t, b, name, randomBytes(uint64(size), size))
	}
	cases := []struct{ prefix, want string }{
		{p + "a/", "a/1 a/2 a/sub/3"},
		{p, "a/1 a/2 a/sub/3 ab b/1"},
		{p + "a", "a/1 a/2 a/sub/3 ab"},
		{p + "missing/", ""},
	}
	for _, c := range cases {
		got := listAll(t, b, c.prefix)
		var names []string
		for _, n := range strings.Fields(c.want) {
			names = append(names, p+n)
		}
		if len(got) != len(names) {
			t.Errorf("list %s: got %d objects %v, want %v", c.prefix, len(got), got, names)
		}
		for _, n := range names {
			if oi, ok := got[n]; !ok || oi.Size != int64(sizes[n]) {
				t.Errorf("list %s: %s got %+v (found %v), want size %d", c.prefix, n, oi, ok, sizes[n])
			}
		}
	}
}

func testListStops(t *testing.T, b backends.Backend) {
	p := root + "stops/"
	for i := range 3 {
		put(t, b, fmt.Sprintf("%s%d", p, i), []byte{byte(i)})
	}
	stop := errors.New("stop here")
	calls := 0
	err := b.List(context.Background(), p, func(backends.ObjectInfo) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("list with failing fn: err %v after %d calls, want %v after 1", err, calls, stop)
	}
}

func testStat(t *testing.T, b backends.Backend) {
	name := root + "stat"
	put(t, b, name, randomBytes(3, 1234))
	oi, err := b.Stat(context.Background(), name)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if oi.Name != name || oi.Size != 1234 || oi.ModTime.IsZero() {
		t.Errorf("stat: got %+v, want name %s, size 1234, a time", oi, name)
	}
}

func testDelete(t *testing.T, b backends.Backend) {
	ctx := context.Background()
	name := root + "delete/x"
	put(t, b, name, []byte("x"))
	if err := b.Delete(ctx, name); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err := b.Stat(ctx, name)
	wantNotFound(t, "stat after delete", name, err)
	wantNotFound(t, "delete again", name, b.Delete(ctx, name))
	if got := listAll(t, b, root+"delete/"); len(got) != 0 {
		t.Errorf("list after delete: %v", got)
	}
}

func testNotFound(t *testing.T, b backends.Backend) {
	ctx := context.Background()
	name := root + "no/such/object"
	_, err := b.Get(ctx, name, 0, -1)
	wantNotFound(t, "get", name, err)
	_, err = b.Get(ctx, name, 10, 10)
	wantNotFound(t, "ranged get", name, err)
	_, err = b.Stat(ctx, name)
	wantNotFound(t, "stat", name, err)
	wantNotFound(t, "delete", name, b.Delete(ctx, name))
}

// retries is how many times the store tries each backend operation
// (daemon/engine's default for backends.Retry).
const retries = 5

// testConcurrentPuts: n Puts at once into one directory all land, each
// whole, and List shows them all. The Puts go through backends.Retry, as
// every Put of the store does: a server may fail some attempts
// transiently (rclone's serve s3 answers 500 "Dir.Rename error" when
// concurrent uploads into one directory race in its file cache, and the
// S3 client does not retry a PutObject itself), and what the store relies
// on is that each Put lands within the retries, complete, and that a
// failed attempt leaves nothing visible. Failed attempts are logged.
func testConcurrentPuts(t *testing.T, b backends.Backend) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	fl := &failLog{Backend: b}
	rb := backends.Retry(fl, retries)
	for i := range n {
		wg.Go(func() {
			errs[i] = rb.Put(context.Background(), fmt.Sprintf("%sconcurrent/%02d", root, i), randomBytes(uint64(i), 10_000+i))
		})
	}
	wg.Wait()
	for _, err := range fl.errs {
		t.Logf("a put attempt failed: %v", err)
	}
	for i := range n {
		name := fmt.Sprintf("%sconcurrent/%02d", root, i)
		t.Cleanup(func() { _ = b.Delete(context.Background(), name) })
		if errs[i] != nil {
			t.Errorf("put %s: %v", name, errs[i])
			continue
		}
		equal(t, name, get(t, b, name, 0, -1), randomBytes(uint64(i), 10_000+i))
	}
	if got := listAll(t, b, root+"concurrent/"); len(got) != n {
		t.Errorf("list after concurrent puts: %d objects, want %d", len(got), n)
	}
}

// failLog is a Backend that records the errors of its Puts.
type failLog struct {
	backends.Backend
	mu   sync.Mutex
	errs []error
}

func (f *failLog) Put(ctx context.Context, name string, data []byte) error {
	err := f.Backend.Put(ctx, name, data)
	if err != nil {
		f.mu.Lock()
		f.errs = append(f.errs, err)
		f.mu.Unlock()
	}
	return err
}
