package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stratabackup/strata/backends"
	"github.com/stratabackup/strata/index/format"
	"github.com/stratabackup/strata/sources"
)

// ownedEntry is one entry of ownerSource.
type ownedEntry struct {
	e    sources.Entry
	data string
}

// ownerSource is a source whose entries carry owners and attributes.
type ownerSource struct {
	entries []ownedEntry
	at      time.Time
}

func (o *ownerSource) Kind() string { return "owned" }
func (o *ownerSource) Close() error { return nil }
func (o *ownerSource) Discover(context.Context) ([]sources.Object, error) {
	return []sources.Object{{Cluster: "c", Database: "d", Table: "owned"}}, nil
}

func (o *ownerSource) Backup(ctx context.Context, _ sources.Object, _ sources.Previous, w sources.Writer) (sources.Result, error) {
	for _, oe := range o.entries {
		var r *strings.Reader
		if oe.e.Type == sources.TypeFile {
			r = strings.NewReader(oe.data)
		}
		var err error
		if r != nil {
			err = w.Add(ctx, oe.e, r)
		} else {
			err = w.Add(ctx, oe.e, nil)
		}
		if err != nil {
			return sources.Result{}, err
		}
	}
	return sources.Result{At: o.at}, nil
}

var ownedObj = sources.Object{Cluster: "c", Database: "d", Table: "owned"}

// ownedEntries are entries with every kind of owner and attribute: ids
// and names, unknown ids, root's id 0, names and attributes that are not
// UTF-8, none at all.
func ownedEntries() []ownedEntry {
	mt := time.Unix(1700000000, 0).UTC()
	file := func(p string, o *sources.Owner, attrs map[string]string) ownedEntry {
		return ownedEntry{e: sources.Entry{Path: p, Type: sources.TypeFile, Mode: 0o640, ModTime: mt, Size: 2, Owner: o, Attrs: attrs}, data: "ok"}
	}
	return []ownedEntry{
		file("both", &sources.Owner{User: "alice", Group: "staff", UID: 1001, GID: 50}, nil),
		file("root", &sources.Owner{User: "root", Group: "root", UID: 0, GID: 0}, nil),
		file("ids", &sources.Owner{UID: 1234, GID: 5678}, nil),
		file("names", &sources.Owner{User: "hdfs", Group: "supergroup", UID: -1, GID: -1},
			map[string]string{"hdfs.replication": "3", "hdfs.blocksize": "134217728"}),
		file("raw", &sources.Owner{User: "b\xffd", Group: "g\xfe", UID: 7, GID: -1},
			map[string]string{"xattr.user.comment": "\x00\xff\xfe bytes", "xattr.user.n\xffme": "v"}),
		file("plain", nil, nil),
		{e: sources.Entry{Path: "dir", Type: sources.TypeDir, Mode: 0o750, ModTime: mt, Owner: &sources.Owner{User: "bob", Group: "bob", UID: 1002, GID: 1002}}},
		{e: sources.Entry{Path: "dir/link", Type: sources.TypeSymlink, Mode: 0o777, ModTime: mt, Target: "../both", Owner: &sources.Owner{UID: 1003, GID: 1004}, Attrs: map[string]string{"acl": "user::rw-"}}},
	}
}

// checkOwned fails unless every entry of v has the owner and attributes
// the source gave it.
func checkOwned(t *testing.T, st *Store, v Version, want []ownedEntry) {
	t.Helper()
	for _, w := range want {
		f, err := st.Lookup(context.Background(), v, w.e.Path)
		if err != nil {
			t.Fatalf("Lookup %s: %v", w.e.Path, err)
		}
		if !reflect.DeepEqual(f.Owner, w.e.Owner) {
			t.Errorf("%s: owner %+v, want %+v", w.e.Path, f.Owner, w.e.Owner)
		}
		if !reflect.DeepEqual(f.Attrs, w.e.Attrs) {
			t.Errorf("%s: attrs %q, want %q", w.e.Path, f.Attrs, w.e.Attrs)
		}
	}
}

func TestOwnersAndAttrsRecorded(t *testing.T) {
	ctx := context.Background()
	st, be, _ := newTestStore(t)
	want := ownedEntries()
	v, err := st.Backup(ctx, &ownerSource{entries: want}, ownedObj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkOwned(t, st, v, want)
	// From the backend alone: a fresh catalog decodes the manifest.
	st2, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	checkOwned(t, st2, v, want)
	// Compact: nothing recorded for an entry without owner or attributes,
	// and no unknown id written as -1.
	m, err := format.ReadManifest(ctx, be, v.Name)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		j, _ := json.Marshal(f)
		switch string(f.Path) {
		case "plain", "":
			if bytes.Contains(j, []byte(`"owner"`)) || bytes.Contains(j, []byte(`"attrs"`)) {
				t.Errorf("%q records %s", f.Path, j)
			}
		case "names":
			if o, _ := json.Marshal(f.Owner); string(o) != `[-1,-1,"hdfs","supergroup"]` {
				t.Errorf("owner with unknown ids written as %s", o)
			}
		}
	}
}

// TestOwnerRecordIsOptional decodes a file record without owner or
// attributes (formats 1 and 2) to none, and one with an empty owner to an
// owner with unknown ids.
func TestOwnerRecordIsOptional(t *testing.T) {
	var m format.FileRecord
	if err := json.Unmarshal([]byte(`{"path":"a","type":0,"mode":420,"mtime":"2026-01-01T00:00:00Z","size":0}`), &m); err != nil {
		t.Fatal(err)
	}
	if f := m.File(); f.Owner != nil || f.Attrs != nil {
		t.Errorf("old record decoded to owner %+v attrs %v", f.Owner, f.Attrs)
	}
	if err := json.Unmarshal([]byte(`{"path":"a","owner":[],"attrs":[]}`), &m); err != nil {
		t.Fatal(err)
	}
	if f := m.File(); !reflect.DeepEqual(f.Owner, &sources.Owner{UID: -1, GID: -1}) || f.Attrs != nil {
		t.Errorf("empty owner decoded to %+v attrs %v", f.Owner, f.Attrs)
	}
	if err := json.Unmarshal([]byte(`{"attrs":{"a":"b"}}`), &m); err == nil {
		t.Error("attributes as an object were accepted")
	}
}

// setConfigFormat rewrites the store's config with format n, as an older
// strata (or a newer one) would have left it.
func setConfigFormat(t *testing.T, be backends.Backend, n int) {
	t.Helper()
	ctx := context.Background()
	data, err := format.ReadRange(ctx, be, "config", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	raw["format"] = n
	data, _ = json.Marshal(raw)
	if err := be.Put(ctx, "config", data); err != nil {
		t.Fatal(err)
	}
}

func configFormat(t *testing.T, be backends.Backend) int {
	t.Helper()
	cfg, err := format.LoadConfig(context.Background(), be)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Format
}

// TestFormat2StoreUpgradesOnOwners opens a format-1 or 2 store, moves it
// to the current format with its first backup (file lists as chunks), and
// reads versions with and without owners, in this process and another.
func TestFormat2StoreUpgradesOnOwners(t *testing.T) {
	for _, old := range []int{1, 2} {
		t.Run(fmt.Sprintf("format%d", old), func(t *testing.T) { testUpgradeOnOwners(t, old) })
	}
}

func testUpgradeOnOwners(t *testing.T, old int) {
	ctx := context.Background()
	be, err := backends.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	setConfigFormat(t, be, old)
	st, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("open a format-%d store: %v", old, err)
	}
	defer st.Close()
	obj := sources.Object{Cluster: "c", Database: "d", Table: "t"}
	v1, err := st.Backup(ctx, &memSource{files: map[string][]byte{"a": []byte("old version")}}, obj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Every version's file list is stored as chunks (format 4), which an
	// older reader would not see: the first backup moves the store on.
	if f := configFormat(t, be); f != FormatVersion {
		t.Fatalf("a backup left the store at format %d, want %d (older readers would see empty versions)", f, FormatVersion)
	}
	if old == format.FormatExtents {
		src := &rowSource{recs: makeRecs(rand.New(rand.NewSource(3)), 50), at: time.Unix(1700000000, 0).UTC()}
		if _, err := st.Backup(ctx, src, sources.Object{Cluster: "c", Database: "d", Table: "rows"}, BackupOptions{}); err != nil {
			t.Fatal(err)
		}
		if f := configFormat(t, be); f != FormatVersion {
			t.Fatalf("extents in a format-%d store left it at format %d", old, f)
		}
	}
	want := ownedEntries()
	v2, err := st.Backup(ctx, &ownerSource{entries: want}, ownedObj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f := configFormat(t, be); f != FormatVersion {
		t.Fatalf("after a version with owners the store has format %d, want %d", f, FormatVersion)
	}
	// Old and new versions read, in this process and from the backend.
	st2, err := Open(ctx, be, Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	for _, s := range []*Store{st, st2} {
		if got := readAll(t, s, v1, "a"); string(got) != "old version" {
			t.Errorf("old version reads %q", got)
		}
		if f, err := s.Lookup(ctx, v1, "a"); err != nil || f.Owner != nil {
			t.Errorf("old version's file: owner %+v, %v", f.Owner, err)
		}
		checkOwned(t, s, v2, want)
	}
}

// TestNewerFormatRefused: a store this strata cannot read is refused
// with its format and location named.
func TestNewerFormatRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	be, err := backends.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, be); err != nil {
		t.Fatal(err)
	}
	setConfigFormat(t, be, FormatVersion+1)
	_, err = Open(ctx, be, Options{CacheDir: t.TempDir()})
	want := fmt.Sprintf("store format %d, this strata reads formats 1 to %d (a newer strata wrote it?)", FormatVersion+1, FormatVersion)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), be.Location()) {
		t.Fatalf("opening a format-%d store: %v; want an error naming %q and %s", FormatVersion+1, err, want, be.Location())
	}
}

// TestRestoreOwners restores as root and checks owners, by id and by a
// name this machine knows, and that a setuid bit survives the chown.
func TestRestoreOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("restoring owners needs root")
	}
	ctx := context.Background()
	st, _, _ := newTestStore(t)
	mt := time.Unix(1700000000, 0).UTC()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody here: %v", err)
	}
	nobodyUID, _ := strconv.Atoi(nobody.Uid)
	entries := []ownedEntry{
		// The name wins over the recorded id when it exists here.
		{e: sources.Entry{Path: "byname", Type: sources.TypeFile, Mode: 0o644, ModTime: mt, Size: 1, Owner: &sources.Owner{User: "nobody", UID: 4444, GID: 5678}}, data: "x"},
		{e: sources.Entry{Path: "d", Type: sources.TypeDir, Mode: 0o2750, ModTime: mt, Owner: &sources.Owner{User: "strata-no-such-user", UID: 1234, GID: 5678}}},
		{e: sources.Entry{Path: "d/suid", Type: sources.TypeFile, Mode: 0o4755, ModTime: mt, Size: 1, Owner: &sources.Owner{UID: 1234, GID: 5678}}, data: "y"},
		{e: sources.Entry{Path: "d/link", Type: sources.TypeSymlink, Mode: 0o777, ModTime: mt, Target: "suid", Owner: &sources.Owner{UID: 1235, GID: 5679}}},
		{e: sources.Entry{Path: "mine", Type: sources.TypeFile, Mode: 0o600, ModTime: mt, Size: 1}, data: "z"},
	}
	v, err := st.Backup(ctx, &ownerSource{entries: entries}, ownedObj, BackupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out")
	if _, err := st.Restore(ctx, v, "", dst, RestoreOptions{}); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]uint32{
		"byname": {uint32(nobodyUID), 5678, 0o644},
		"d":      {1234, 5678, 0o2750 | syscall.S_IFDIR},
		"d/suid": {1234, 5678, 0o4755},
		"d/link": {1235, 5679, 0o777 | syscall.S_IFLNK},
		"mine":   {0, 0, 0o600},
	}
	for p, w := range want {
		var s syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(dst, p), &s); err != nil {
			t.Fatal(err)
		}
		mode := s.Mode
		if s.Mode&syscall.S_IFMT == syscall.S_IFREG {
			mode &^= syscall.S_IFREG
		}
		if s.Uid != w[0] || s.Gid != w[1] || mode != w[2] {
			t.Errorf("%s: uid %d gid %d mode %o, want %d %d %o", p, s.Uid, s.Gid, mode, w[0], w[1], w[2])
		}
	}
}

// TestOwnersLocalIDs checks the choice of ids without root: the name's
// id here, else the recorded id, else unchanged; one lookup per name;
// failures counted and reported once at the end.
func TestOwnersLocalIDs(t *testing.T) {
	lookups := 0
	c := newOwners()
	c.enabled = true
	c.lookupUser = func(name string) (int, bool) {
		lookups++
		return 42, name == "alice"
	}
	c.lookupGroup = func(name string) (int, bool) { return 7, name == "staff" }
	cases := []struct {
		o        sources.Owner
		uid, gid int
	}{
		{sources.Owner{User: "alice", Group: "staff", UID: 1, GID: 2}, 42, 7},
		{sources.Owner{User: "carol", Group: "other", UID: 1, GID: 2}, 1, 2},
		{sources.Owner{User: "carol", UID: -1, GID: -1}, -1, -1},
		{sources.Owner{UID: 0, GID: 0}, 0, 0},
		{sources.Owner{UID: 1 << 40, GID: -5}, -1, -1},
	}
	for _, k := range cases {
		if uid, gid := c.ids(&k.o); uid != k.uid || gid != k.gid {
			t.Errorf("%+v: %d:%d, want %d:%d", k.o, uid, gid, k.uid, k.gid)
		}
	}
	if lookups != 2 {
		t.Errorf("%d user lookups, want 2 (alice, carol once each)", lookups)
	}
	calls := 0
	chown := func(uid, gid int) error { calls++; return syscall.EINVAL }
	c.apply(File{Entry: sources.Entry{Path: "x", Owner: &sources.Owner{UID: -1, GID: -1}}}, "/t/x", chown)
	c.apply(File{Entry: sources.Entry{Path: "y"}}, "/t/y", chown)
	if calls != 0 || c.err() != nil {
		t.Fatalf("chown called %d times for nothing to apply; err %v", calls, c.err())
	}
	c.apply(File{Entry: sources.Entry{Path: "a", Owner: &sources.Owner{UID: 1234, GID: 5678}}}, "/t/a", chown)
	c.apply(File{Entry: sources.Entry{Path: "b", Owner: &sources.Owner{User: "bob", UID: 1, GID: 1}}}, "/t/b", chown)
	err := c.err()
	if err == nil || !errors.Is(err, syscall.EINVAL) || !strings.Contains(err.Error(), "2 entries") || !strings.Contains(err.Error(), "/t/a to 1234:5678 (uid 1234, gid 5678)") {
		t.Errorf("err = %v", err)
	}
	c.enabled = false
	c.apply(File{Entry: sources.Entry{Path: "a", Owner: &sources.Owner{UID: 1234, GID: 5678}}}, "/t/a", chown)
	if calls != 2 {
		t.Errorf("not root: chown called")
	}
}
