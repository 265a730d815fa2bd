package hdfs

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stratabackup/strata/sources"
)

func TestParseDir(t *testing.T) {
	for _, c := range []struct {
		in, table, dir string
		bad            bool
	}{
		{in: "/data/logs", dir: "/data/logs"},
		{in: "logs=/data/logs/", table: "logs", dir: "/data/logs"},
		{in: "/data/*/logs", dir: "/data/*/logs"},
		{in: "/a=b", dir: "/a=b"},
		{in: "a/b=/x", table: "a/b", dir: "/x"},
		{in: "relative", bad: true},
		{in: "t=relative", bad: true},
		{in: "t=/data/*", bad: true},
		{in: "../t=/x", bad: true},
		{in: "/", bad: true},
		{in: "root=/", table: "root", dir: "/"},
	} {
		d, err := parseDir(c.in)
		if (err != nil) != c.bad || (!c.bad && (d.table != c.table || d.dir != c.dir)) {
			t.Errorf("parseDir(%q) = %+v, %v; want table %q dir %q bad %v", c.in, d, err, c.table, c.dir, c.bad)
		}
	}
}

func TestCheckTables(t *testing.T) {
	for _, c := range []struct {
		name string
		dirs []string
		err  string // "" for none
	}{
		{"distinct", []string{"a=/x", "b=/y", "/data/logs"}, ""},
		{"same dir twice", []string{"a=/x", "a=/x/"}, ""},
		{"table twice", []string{"app=/src/a", "app=/src/b"}, `table "app" names both /src/a and /src/b`},
		{"table and path", []string{"data/logs=/x", "/data/logs"}, `table "data/logs" names both /x and /data/logs`},
		{"globs left to Discover", []string{"/data/*", "/data/*"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			specs := make([]dirSpec, len(c.dirs))
			for i, d := range c.dirs {
				var err error
				if specs[i], err = parseDir(d); err != nil {
					t.Fatal(err)
				}
			}
			err := checkTables(specs)
			if (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
				t.Errorf("checkTables(%q) = %v, want %q", c.dirs, err, c.err)
			}
		})
	}
}

func TestNoXAttrsSetting(t *testing.T) {
	for _, c := range []struct {
		val  string
		want bool
		err  string // "" for none
	}{
		{"", false, ""},
		{"true", true, ""},
		{"0", false, ""},
		{"yes", false, `no-xattrs="yes"`},
		{"on", false, `no-xattrs="on"`},
	} {
		cfg := sources.NewConfig()
		cfg.Set("cluster", "c")
		cfg.Set("db", "d")
		cfg.Set("namenode", "192.0.2.1:8020")
		cfg.Set("user", "u")
		cfg.Set("dir", "/data")
		if c.val != "" {
			cfg.Set("no-xattrs", c.val)
		}
		s, err := newFromConfig(cfg)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("no-xattrs=%q: %v; want an error naming %s", c.val, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("no-xattrs=%q: %v", c.val, err)
		case c.err == "" && s.(*Source).cfg.NoXAttrs != c.want:
			t.Errorf("no-xattrs=%q: NoXAttrs %v, want %v", c.val, s.(*Source).cfg.NoXAttrs, c.want)
		}
	}
}

func TestKeptPrefix(t *testing.T) {
	b := func(id, gs uint64, n int64) blockPrint { return blockPrint{id: id, gs: gs, n: n} }
	prev := fingerprint{size: 2500, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000), b(3, 10, 500)}}
	for _, c := range []struct {
		name string
		cur  fingerprint
		want int64
	}{
		{"grown last block", fingerprint{size: 2800, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000), b(3, 11, 800)}}, 2500},
		{"new block after full", fingerprint{size: 3500, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000), b(3, 11, 1000), b(4, 12, 500)}}, 2500},
		{"other file", fingerprint{size: 2800, fileID: 8, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000), b(3, 11, 800)}}, 0},
		{"shrunk", fingerprint{size: 2000, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000)}}, 0},
		{"middle block replaced", fingerprint{size: 2800, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(9, 10, 1000), b(3, 11, 800)}}, 1000},
		{"last block replaced", fingerprint{size: 2800, fileID: 7, blocks: []blockPrint{b(1, 10, 1000), b(2, 10, 1000), b(5, 11, 800)}}, 2000},
	} {
		if got := c.cur.keptPrefix(prev); got != c.want {
			t.Errorf("%s: keptPrefix = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestFingerprintRoundTrip(t *testing.T) {
	f := fingerprint{size: 2500, mtime: 123, fileID: 7, blocks: []blockPrint{{id: 1, gs: 10, n: 1000}, {id: 2, gs: 11, n: 1500, off: 1000, md5: "ab"}}}
	g, ok := parseFingerprint(f.String())
	if !ok || g.String() != f.String() || !g.sameBlocks(f) || g.blocks[1].off != 1000 {
		t.Fatalf("parse(%q) = %+v, %v", f.String(), g, ok)
	}
	for _, bad := range []string{"", "v2 1 2 3", "v1 1 2", "v1 x 2 3", "v1 1 2 3 1.2", "12:34:56"} {
		if _, ok := parseFingerprint(bad); ok {
			t.Errorf("parseFingerprint(%q) accepted", bad)
		}
	}
}

func TestLeftover(t *testing.T) {
	host, _ := os.Hostname()
	now := time.Now()
	for _, c := range []struct {
		name string
		want bool
	}{
		{fmt.Sprintf("strata.%d.%d.1.%s", now.Unix(), os.Getpid(), host), false},  // this process
		{fmt.Sprintf("strata.%d.%d.1.%s", now.Unix(), 1<<30, host), true},         // gone
		{fmt.Sprintf("strata.%d.%d.1.other-host", now.Unix(), 1<<30), false},      // another host, recent
		{fmt.Sprintf("strata.%d.%d.1.other.host", now.Unix()-90000, 1<<30), true}, // another host, old
		{"manual-snapshot", false},
		{"strata.garbage", false},
	} {
		if got := leftover(c.name, now); got != c.want {
			t.Errorf("leftover(%q) = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRootFor(t *testing.T) {
	roots := []string{"/a", "/a/b", "/c"}
	for dir, want := range map[string]string{"/a/b/c": "/a/b", "/a/bc": "/a", "/a": "/a", "/d": "", "/cc": ""} {
		if got := rootFor(roots, dir); got != want {
			t.Errorf("rootFor(%q) = %q, want %q", dir, got, want)
		}
	}
}

func TestSummerMatchesBlocks(t *testing.T) {
	data := content("x", 2500)
	blocks := []blockPrint{{n: 1000}, {off: 1000, n: 1000}, {off: 2000, n: 500}}
	whole := newSummer(blocks, 0, 512)
	whole.Write(data[:700])
	whole.Write(data[700:])
	one := newSummer(blocks[1:2], 1000, 512)
	one.Write(data[1000:2000])
	if whole.blocks[1].md5 == "" || whole.blocks[1].md5 != one.blocks[0].md5 {
		t.Fatalf("block md5 %q summed with the file, %q alone", whole.blocks[1].md5, one.blocks[0].md5)
	}
	if _, ok := fileChecksum(whole.blocks); !ok {
		t.Fatal("no file checksum from three summed blocks")
	}
	if _, ok := fileChecksum([]blockPrint{{n: 1}}); ok {
		t.Fatal("file checksum from a block without md5")
	}
}

func TestParseTarget(t *testing.T) {
	for _, c := range []struct {
		in  string
		nns int
		dir string
		bad bool
	}{
		{in: "hdfs://nn:9000/restored", nns: 1, dir: "/restored"},
		{in: "hdfs://nn1:9000,nn2:9000/a/b/", nns: 2, dir: "/a/b"},
		{in: "hdfs://nn:9000/", bad: true},
		{in: "hdfs://user:pw@nn:9000/x", bad: true},
		{in: "/local/path", bad: true},
		{in: "s3://b/x", bad: true},
	} {
		nns, dir, err := parseTarget(c.in)
		if (err != nil) != c.bad || (!c.bad && (len(nns) != c.nns || dir != c.dir)) {
			t.Errorf("parseTarget(%q) = %v, %q, %v", c.in, nns, dir, err)
		}
		if err != nil && c.in == "hdfs://user:pw@nn:9000/x" && strings.Contains(err.Error(), "pw") {
			t.Errorf("parseTarget error shows the password: %v", err)
		}
	}
}
