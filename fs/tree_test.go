package fs

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestListEachLevel(t *testing.T) {
	mnt := mountTest(t, fixture())
	special := []string{"@at", "@diff", "latest"}
	cases := []struct {
		dir  string
		want []string
	}{
		{"", []string{"clu%01ster", "fs1", "prod-cass"}},
		{"prod-cass", []string{"shop"}},
		{"prod-cass/shop", []string{"orders"}},
		{"prod-cass/shop/orders", append([]string{t1, t2, t3}, special...)},
		{"prod-cass/shop/orders/" + t1, []string{"a.txt", "dir", "link"}},
		{"prod-cass/shop/orders/" + t1 + "/dir", []string{"b.bin", "sub"}},
		{"prod-cass/shop/orders/" + t1 + "/dir/sub", nil},
		{"prod-cass/shop/orders/" + t2, []string{"a.txt", "c.txt", "dir", "link", "nl%0Aname"}},
		{"fs1/home", []string{"users"}},
		{"fs1/home/users", append([]string{t1, "alice"}, special...)},
		{"fs1/home/users/alice", append([]string{t2}, special...)},
		{"fs1/home/users/alice/" + t2 + "/notes", []string{"todo.txt"}},
		{"clu%01ster", []string{"db%2Fx"}},
		{"clu%01ster/db%2Fx", []string{"%2E%2E"}},
		{"prod-cass/shop/orders/@at", nil},
		{"prod-cass/shop/orders/@diff", nil},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			got := names(t, filepath.Join(mnt, c.dir))
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

func TestLatest(t *testing.T) {
	cat := fixture()
	mnt := mountTest(t, cat)
	link := tablePath(mnt, orders, "latest")
	if got, err := os.Readlink(link); err != nil || got != t3 {
		t.Fatalf("Readlink latest = %q, %v; want %q", got, err, t3)
	}
	if got, err := os.ReadFile(filepath.Join(link, "c.txt")); err != nil || string(got) != "new\n" {
		t.Errorf("read latest/c.txt = %q, %v", got, err)
	}
	// A new version shows up after the one-second refresh.
	cat.add(orders, "2026-11-26T00:00:00Z", fakeFile{path: "z", data: "z"})
	time.Sleep(refreshTimeout + 200*time.Millisecond)
	if got, err := os.Readlink(link); err != nil || got != "2026-11-26T00:00:00Z" {
		t.Errorf("Readlink latest after a new version = %q, %v", got, err)
	}
	if got := names(t, tablePath(mnt, orders)); !slices.Contains(got, "2026-11-26T00:00:00Z") {
		t.Errorf("new version not listed: %q", got)
	}
}

func TestAt(t *testing.T) {
	mnt := mountTest(t, fixture())
	v1, _ := time.Parse(time.RFC3339, t1)
	cases := []struct{ name, want string }{
		{t2, "../" + t2},
		{"2026-11-24T11:59:59Z", "../" + t1},
		{"2026-11-24T13:00:00+01:00", "../" + t2},
		{"2026-11-24", "../" + t2},
		{"2026-11-25", "../" + t3},
		{"2030-01-01", "../" + t3},
		{strconv.FormatInt(v1.Unix(), 10), "../" + t1},
		{strconv.FormatInt(v1.Unix()+7199, 10), "../" + t1},
		{strconv.FormatInt(v1.Unix()+7200, 10), "../" + t2},
	}
	for _, c := range cases {
		p := tablePath(mnt, orders, "@at", c.name)
		got, err := os.Readlink(p)
		if err != nil || got != c.want {
			t.Errorf("Readlink @at/%s = %q, %v; want %q", c.name, got, err, c.want)
			continue
		}
		if _, err := os.Stat(filepath.Join(p, "a.txt")); err != nil {
			t.Errorf("stat through @at/%s: %v", c.name, err)
		}
	}
	for _, name := range []string{"2026-11-23", "2026-11-24T09:59:59Z", "yesterday", "2026-13-01"} {
		_, err := os.Lstat(tablePath(mnt, orders, "@at", name))
		wantErrno(t, "@at/"+name, err, syscall.ENOENT)
	}
}

func TestDiff(t *testing.T) {
	mnt := mountTest(t, fixture())
	cases := []struct {
		name, deleted string
		files         []string
	}{
		{t1 + ".." + t2, "", []string{"a.txt", "c.txt", "nl%0Aname"}},
		{"2026-11-24.." + t3, "dir\ndir/b.bin\ndir/sub\nnl%0Aname\n", nil},
		{"0.." + t1, "", []string{"a.txt", "dir", "link"}},
		{t2 + ".." + t2, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := tablePath(mnt, orders, "@diff", c.name)
			got := names(t, d)
			want := append(slices.Clone(c.files), ".deleted")
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("names = %q, want %q", got, want)
			}
			b, err := os.ReadFile(filepath.Join(d, ".deleted"))
			if err != nil || string(b) != c.deleted {
				t.Errorf(".deleted = %q, %v; want %q", b, err, c.deleted)
			}
		})
	}
	b, err := os.ReadFile(tablePath(mnt, orders, "@diff", t1+".."+t2, "a.txt"))
	if err != nil || string(b) != "hello world\n" {
		t.Errorf("diff a.txt = %q, %v; want the later content", b, err)
	}
	for _, name := range []string{t2, t2 + "..", ".." + t2, t3 + ".." + t1, "2026-11-20..2026-11-21", "x..y"} {
		_, err := os.Stat(tablePath(mnt, orders, "@diff", name))
		wantErrno(t, "@diff/"+name, err, syscall.ENOENT)
	}
}

func TestUnknownNames(t *testing.T) {
	mnt := mountTest(t, fixture())
	for _, p := range []string{
		"nope",
		"prod-cass/nope",
		"prod-cass/shop/nope",
		"prod-cass/shop/orders/nope",
		"prod-cass/shop/orders/2026-11-24T10:00:01Z",
		"prod-cass/shop/orders/" + t1 + "/nope",
		"prod-cass/shop/orders/" + t1 + "/dir/nope",
		"prod-cass/shop/orders/" + t1 + "/%zz",
		"prod-cass/shop/orders/" + t1 + "/a%2Etxt",
		"fs1/home/users/bob",
		"fs1/home/users/alice/latest/nope",
	} {
		_, err := os.Lstat(filepath.Join(mnt, p))
		wantErrno(t, p, err, syscall.ENOENT)
		// Twice: the second answer may come from the kernel's negative cache.
		_, err = os.Lstat(filepath.Join(mnt, p))
		wantErrno(t, p+" again", err, syscall.ENOENT)
	}
}
