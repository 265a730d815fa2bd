package posix

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// backupDir backs up dir as table "t" into w.
func backupDir(t *testing.T, dir string, prev sources.Previous, w sources.Writer) (sources.Result, error) {
	t.Helper()
	s, err := New(Config{Cluster: "c", Database: "d", Roots: map[string]string{"t": dir}})
	if err != nil {
		t.Fatal(err)
	}
	return s.Backup(context.Background(), sources.Object{Cluster: "c", Database: "d", Table: "t"}, prev, w)
}

func writeFile(t *testing.T, path string, data []byte, mode uint32, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	setMeta(t, path, mode, mtime)
}

// setMeta sets mode bits (incl. setuid/setgid/sticky) and mtime.
func setMeta(t *testing.T, path string, mode uint32, mtime time.Time) {
	t.Helper()
	if err := unix.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

var (
	mtime1     = time.Date(2024, 3, 1, 10, 20, 30, 123456789, time.UTC)
	hostile255 = strings.Repeat("n", 250) + "\xff\x01end" // 255 bytes
)

func TestBackupTree(t *testing.T) {
	root := t.TempDir()
	type want struct {
		typ    sources.EntryType
		mode   uint32
		data   string
		target string
	}
	files := map[string]want{
		"plain.txt":           {sources.TypeFile, 0o644, "hello\n", ""},
		"empty":               {sources.TypeFile, 0o600, "", ""},
		"bin/setuid":          {sources.TypeFile, 0o4755, "#!/bin/sh\n", ""},
		"bin/setgid":          {sources.TypeFile, 0o2750, "x", ""},
		"bad\xff\xfeutf8":     {sources.TypeFile, 0o644, "invalid utf-8 name", ""},
		"new\nline\ttab":      {sources.TypeFile, 0o644, "control chars", ""},
		"a/b/c/" + hostile255: {sources.TypeFile, 0o640, "long name", ""},
		"%2F not a slash":     {sources.TypeFile, 0o644, "percent", ""},
	}
	for rel, w := range files {
		writeFile(t, filepath.Join(root, rel), []byte(w.data), w.mode, mtime1)
	}
	dirs := map[string]uint32{"a": 0o755, "a/b": 0o700, "a/b/c": 0o755, "bin": 0o755, "sticky": 0o1777, "emptydir": 0o2775}
	for rel := range dirs {
		if err := os.MkdirAll(filepath.Join(root, rel), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{"rel-link": "plain.txt", "abs-link": "/etc/passwd", "dangling": "no/such\xff", "a/up": "../bin"}
	for rel, target := range links {
		if err := os.Symlink(target, filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	for rel, mode := range dirs { // after the children, so mtimes stay
		setMeta(t, filepath.Join(root, rel), mode, mtime1)
	}
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}

	w := sourcetest.NewWriter(nil)
	before := time.Now()
	res, err := backupDir(t, root, nil, w)
	if err != nil {
		t.Fatal(err)
	}
	if res.At.Before(before) || res.At.After(time.Now()) {
		t.Errorf("Result.At = %v, want the backup's start", res.At)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], filepath.Join(root, "fifo")) {
		t.Errorf("warnings = %q, want one naming the fifo", res.Warnings)
	}
	if len(w.Paths()) != len(files)+len(dirs)+len(links) {
		t.Errorf("got %d entries, want %d", len(w.Paths()), len(files)+len(dirs)+len(links))
	}
	for rel, f := range files {
		e, ok := w.Entry(rel)
		switch {
		case !ok:
			t.Errorf("file %q missing", rel)
		case e.Type != f.typ || e.Mode != f.mode || !e.ModTime.Equal(mtime1) || e.Size != int64(len(f.data)):
			t.Errorf("file %q = %+v, want mode %o size %d mtime %v", rel, e, f.mode, len(f.data), mtime1)
		case string(w.Data(rel)) != f.data:
			t.Errorf("file %q content %q, want %q", rel, w.Data(rel), f.data)
		case e.Fingerprint == "":
			t.Errorf("file %q has no fingerprint", rel)
		}
	}
	for rel, mode := range dirs {
		if e, _ := w.Entry(rel); e.Type != sources.TypeDir || e.Mode != mode || !e.ModTime.Equal(mtime1) {
			t.Errorf("dir %q = %+v, want mode %o mtime %v", rel, e, mode, mtime1)
		}
	}
	for rel, target := range links {
		if e, _ := w.Entry(rel); e.Type != sources.TypeSymlink || e.Target != target {
			t.Errorf("symlink %q = %+v, want target %q", rel, e, target)
		}
	}
}

// ctimeChange runs change until path's ctime differs from what it was, so
// that coarse kernel timestamps cannot hide a change.
func ctimeChange(t *testing.T, path string, change func()) {
	t.Helper()
	var before, after unix.Stat_t
	if err := unix.Lstat(path, &before); err != nil {
		t.Fatal(err)
	}
	for {
		change()
		if err := unix.Lstat(path, &after); err != nil {
			t.Fatal(err)
		}
		if after.Ctim != before.Ctim {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSecondBackupReadsOnlyChanged(t *testing.T) {
	root := t.TempDir()
	p := func(name string) string { return filepath.Join(root, name) }
	cases := []struct {
		name     string
		change   func(t *testing.T)
		wantRead bool
	}{
		{"untouched", func(t *testing.T) {}, false},
		{"untouched2", func(t *testing.T) {}, false},
		{"grown", func(t *testing.T) { writeFile(t, p("grown"), []byte("more content"), 0o644, mtime1) }, true},
		{"touched", func(t *testing.T) { setMeta(t, p("touched"), 0o644, mtime1.Add(time.Second)) }, true},
		{"same size and mtime, rewritten", func(t *testing.T) {
			ctimeChange(t, p("same size and mtime, rewritten"), func() {
				writeFile(t, p("same size and mtime, rewritten"), []byte("CONTENT"), 0o644, mtime1)
			})
		}, true},
		{"replaced by rename", func(t *testing.T) {
			writeFile(t, p("tmp"), []byte("CONTENT"), 0o644, mtime1)
			if err := os.Rename(p("tmp"), p("replaced by rename")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"chmod only", func(t *testing.T) {
			ctimeChange(t, p("chmod only"), func() { setMeta(t, p("chmod only"), 0o600, mtime1) })
		}, true},
	}
	for _, c := range cases {
		writeFile(t, p(c.name), []byte("content"), 0o644, mtime1)
	}
	first := sourcetest.NewWriter(nil)
	if _, err := backupDir(t, root, nil, first); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		c.change(t)
	}
	writeFile(t, p("new"), []byte("new"), 0o644, mtime1)

	prev := first.Version().WithInfo(sources.VersionInfo{Time: mtime1})
	// A Writer that compares whole entries (sources.SameKeeper) keeps the
	// unchanged files itself; with one that does not, the source looks
	// each up and compares fingerprints.
	for _, sameKeeper := range []bool{true, false} {
		second := sourcetest.NewWriter(prev)
		var w sources.Writer = second
		if !sameKeeper {
			w = struct{ sources.Writer }{second}
		}
		if _, err := backupDir(t, root, prev, w); err != nil {
			t.Fatal(err)
		}
		if second.Adds("new") != 1 {
			t.Errorf("new file: %d Adds, want 1", second.Adds("new"))
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/SameKeeper=%v", c.name, sameKeeper), func(t *testing.T) {
				adds, keeps := second.Adds(c.name), second.Keeps(c.name)
				if c.wantRead && (adds != 1 || keeps != 0) {
					t.Errorf("changed file: %d Adds, %d Keeps; want it read once", adds, keeps)
				}
				if !c.wantRead && (adds != 0 || keeps != 1) {
					t.Errorf("unchanged file: %d Adds, %d Keeps; want it kept unread", adds, keeps)
				}
				if same := second.SameKeeps(c.name); sameKeeper && same != keeps {
					t.Errorf("%d Keeps, %d of them by KeepSame; want all", keeps, same)
				}
			})
		}
	}
}

// TestFileChangedDuringRead changes a file while it streams (batches are
// off: see TestFileChangedDuringBatchedRead).
func TestFileChangedDuringRead(t *testing.T) {
	defer func(max int64) { batchFileMax = max }(batchFileMax)
	batchFileMax = 0
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	cases := []struct {
		name    string
		change  func(path string, attempt int) // after the first Read
		wantErr bool
		want    []byte
	}{
		{"truncated once", func(path string, attempt int) {
			if attempt == 1 {
				_ = os.Truncate(path, 1000)
			}
		}, false, data[:1000]},
		{"grown once", func(path string, attempt int) {
			if attempt == 1 {
				appendTo(path, []byte("tail"))
			}
		}, false, append(append([]byte(nil), data...), "tail"...)},
		{"grows on every read", func(path string, attempt int) { appendTo(path, []byte("tail")) }, true, nil},
		{"shrinks on every read", func(path string, attempt int) { _ = os.Truncate(path, int64(1000*(3-attempt))) }, true, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "live.db")
			writeFile(t, path, data, 0o644, mtime1)
			w := &hookWriter{Writer: sourcetest.NewWriter(nil)}
			w.onRead = func(rel string, attempt int) { c.change(path, attempt) }
			_, err := backupDir(t, root, nil, w)
			if c.wantErr {
				if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "changed while being read") {
					t.Fatalf("err = %v, want a changed-file error naming %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Adds("live.db") != 2 || !bytes.Equal(w.Data("live.db"), c.want) {
				t.Errorf("%d Adds, %d bytes stored; want 2 Adds and %d bytes", w.Adds("live.db"), len(w.Data("live.db")), len(c.want))
			}
		})
	}
}

func appendTo(path string, data []byte) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		panic(err)
	}
}

func TestWriterErrorNamesPath(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "sub", "f"), []byte("x"), 0o644, mtime1)
	w := &hookWriter{Writer: sourcetest.NewWriter(nil), failPath: "sub/f"}
	_, err := backupDir(t, root, nil, w)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "sub", "f")) {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestBackupCancelled(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "f"), []byte("x"), 0o644, mtime1)
	s, err := New(Config{Cluster: "c", Database: "d", Roots: map[string]string{"t": root}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Backup(ctx, sources.Object{Cluster: "c", Database: "d", Table: "t"}, nil, sourcetest.NewWriter(nil))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	cases := map[string]Config{
		"no cluster":   {Database: "d", Roots: map[string]string{"t": "/tmp"}},
		"no roots":     {Cluster: "c", Database: "d"},
		"dot-dot":      {Cluster: "c", Database: "d", Roots: map[string]string{"a/../b": "/tmp"}},
		"absolute":     {Cluster: "c", Database: "d", Roots: map[string]string{"/a": "/tmp"}},
		"empty table":  {Cluster: "c", Database: "d", Roots: map[string]string{"": "/tmp"}},
		"double slash": {Cluster: "c", Database: "d", Roots: map[string]string{"a//b": "/tmp"}},
		"empty dir":    {Cluster: "c", Database: "d", Roots: map[string]string{"t": ""}},
	}
	for name, cfg := range cases {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestDiscoverAndUnknownObject(t *testing.T) {
	s, err := New(Config{Cluster: "c", Database: "d", Roots: map[string]string{"var/data": "/var", "etc": "/etc"}})
	if err != nil {
		t.Fatal(err)
	}
	objs, err := s.Discover(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].String() != "c/d/etc" || objs[1].String() != "c/d/var/data" || objs[1].Meta["path"] != "/var" {
		t.Errorf("Discover = %+v", objs)
	}
	_, err = s.Backup(context.Background(), sources.Object{Cluster: "c", Database: "d", Table: "nope"}, nil, sourcetest.NewWriter(nil))
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("backup of an unknown table: err = %v", err)
	}
}

// TestFileChangedDuringBatchedRead changes a small file after the batcher
// opened it and before its batch is read: the read must be taken as
// changed and the file read again, the new content stored once.
func TestFileChangedDuringBatchedRead(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	other := bytes.Repeat([]byte("fedcba9876543210"), 4096)
	cases := []struct {
		name   string
		change func(path string)
		want   []byte
	}{
		{"truncated", func(path string) { _ = os.Truncate(path, 1000) }, data[:1000]},
		{"grown", func(path string) { appendTo(path, []byte("tail")) }, append(append([]byte(nil), data...), "tail"...)},
		{"rewritten in place, same size", func(path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err == nil {
				_, _ = f.WriteAt(other, 0)
				f.Close()
			}
		}, other},
	}
	if !batchesAvailable() {
		if os.Getenv("CI") == "true" {
			t.Fatal("io_uring is not available: batched reads untested")
		}
		t.Skip("io_uring is not available here")
	}
	defer func() { batchReadHook = nil }()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "live.db")
			writeFile(t, path, data, 0o644, mtime1)
			hooked := 0
			batchReadHook = func(full string) {
				if full == path && hooked == 0 {
					c.change(path)
				}
				hooked++
			}
			w := sourcetest.NewWriter(nil)
			if _, err := backupDir(t, root, nil, w); err != nil {
				t.Fatal(err)
			}
			if hooked != 1 {
				t.Fatalf("the file went through %d batches, want 1", hooked)
			}
			if w.Adds("live.db") != 1 || !bytes.Equal(w.Data("live.db"), c.want) {
				t.Errorf("%d Adds, %d bytes stored; want 1 Add of %d bytes", w.Adds("live.db"), len(w.Data("live.db")), len(c.want))
			}
			// The entry describes the bytes stored, not the file as opened.
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if e, _ := w.Entry("live.db"); !e.ModTime.Equal(fi.ModTime()) || e.Size != fi.Size() {
				t.Errorf("entry mtime %v size %d, file now %v %d", e.ModTime, e.Size, fi.ModTime(), fi.Size())
			}
		})
	}
}

// hookWriter injects faults into a sourcetest.Writer: onRead runs after
// the first Read of each file Add, with the path and the how-many-th Add
// of that path it is; an Add of failPath fails.
type hookWriter struct {
	*sourcetest.Writer
	onRead   func(path string, attempt int)
	failPath string
}

func (w *hookWriter) Add(ctx context.Context, e sources.Entry, r io.Reader) error {
	if w.failPath != "" && e.Path == w.failPath {
		return errors.New("injected failure")
	}
	if r != nil && w.onRead != nil {
		attempt := w.Adds(e.Path) + 1
		r = &firstRead{r: r, hook: func() { w.onRead(e.Path, attempt) }}
	}
	return w.Writer.Add(ctx, e, r)
}

// firstRead calls hook once, after the first Read.
type firstRead struct {
	r    io.Reader
	hook func()
}

func (f *firstRead) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if f.hook != nil {
		f.hook()
		f.hook = nil
	}
	return n, err
}

func TestSessionNamesVersionsByItsStart(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(a, "f"), []byte("x"), 0o644, mtime1)
	s, err := New(Config{Cluster: "c", Database: "d", Roots: map[string]string{"a": a, "b": b}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	objs, _ := s.Discover(ctx)
	if _, err := s.Begin(ctx, append(objs, sources.Object{Cluster: "c", Database: "d", Table: "nope"}), sources.Discard); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Begin with an unknown table: err = %v, want one naming it", err)
	}
	before := time.Now().UTC().Truncate(time.Second)
	sess, err := s.Begin(ctx, objs[:1], sources.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	at := sess.At()
	if at.Location() != time.UTC || !at.Equal(at.Truncate(time.Second)) || at.Before(before) || at.After(time.Now()) {
		t.Errorf("Session.At = %v, want the start in UTC whole seconds", at)
	}
	res, err := sess.Backup(ctx, objs[0], nil, sourcetest.NewWriter(nil))
	if err != nil || !res.At.Equal(at) {
		t.Errorf("session backup: At %v, err %v; want At %v", res.At, err, at)
	}
	if _, err := sess.Backup(ctx, objs[1], nil, sourcetest.NewWriter(nil)); err == nil {
		t.Error("session backup of an object not named at Begin succeeded")
	}
}

func TestReadersSetting(t *testing.T) {
	cfg := sources.NewConfig()
	cfg.Set("cluster", "c")
	cfg.Set("db", "d")
	cfg.Set("root", "t="+t.TempDir())
	cfg.Set("readers", "3")
	s, err := newFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w := s.(*Source).cfg.Workers; w != 3 {
		t.Errorf("readers=3 gave %d workers", w)
	}
	cfg.Set("readers", "lots")
	if _, err := newFromConfig(cfg); err == nil || !strings.Contains(err.Error(), `readers="lots"`) {
		t.Errorf("readers=lots: %v, want an error naming the setting", err)
	}
}

// infoOnly is a Previous that has only its version's time.
type infoOnly struct {
	sources.Previous
	at time.Time
}

func (p infoOnly) Info() sources.VersionInfo { return sources.VersionInfo{Time: p.at} }

func TestReaders(t *testing.T) {
	cpus := sources.CPUs()
	for _, tc := range []struct {
		name       string
		configured int
		prev       sources.Previous
		batched    bool
		want       int
	}{
		{"configured wins", 3, infoOnly{at: time.Unix(1, 0)}, true, 3},
		{"first backup", 0, infoOnly{}, false, 2 * cpus},
		{"first backup, batched reads", 0, infoOnly{}, true, cpus},
		{"no previous at all", 0, nil, false, 2 * cpus},
		{"no previous at all, batched reads", 0, nil, true, cpus},
		{"later backup", 0, infoOnly{at: time.Unix(1, 0)}, false, 4 * cpus},
		{"later backup, batched reads", 0, infoOnly{at: time.Unix(1, 0)}, true, 4 * cpus},
	} {
		if got := readers(tc.configured, tc.prev, tc.batched); got != tc.want {
			t.Errorf("%s: readers = %d, want %d", tc.name, got, tc.want)
		}
	}
}
