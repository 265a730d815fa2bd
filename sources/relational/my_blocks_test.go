package relational

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/stratabackup/strata/integration/harness"
	"github.com/stratabackup/strata/sources"
	"github.com/stratabackup/strata/sources/sourcetest"
)

// TestMariaDBBlocks checks backups by block checksums on the table of
// every type, 2,000 rows in 20 blocks: an unchanged table's blocks all
// match (the client's and the server's row encodings agree for every
// type) and nothing is read or stored; after updates, a delete, inserts
// below and past the key's ends, and changes that keep a block's rows and
// bytes (two values swapped, the same byte changed in two rows) the file
// equals, byte for byte, a full read's, and the changed blocks are found;
// rows updated all over the table stop the checking; a previous file that
// does not match its sums is read whole.
func TestMariaDBBlocks(t *testing.T) {
	dsn := harness.MariaDBDB(t)
	db := myDB(t, dsn)
	myExec(t, db, myTypesDDL)
	myExec(t, db, myTypesRows)
	// Strings stored as utf8mb4 (hashed as they are) and as latin1
	// (converted), and the string 'NULL' next to NULL.
	myExec(t, db, "ALTER TABLE kinds ADD COLUMN u varchar(20) CHARACTER SET utf8mb4, ADD COLUMN l varchar(20) CHARACTER SET latin1")
	myExec(t, db, "UPDATE kinds SET u = IF(id % 3 = 0, NULL, IF(id % 3 = 1, 'NULL', CONCAT('ü✓', id))), l = CONCAT('é', id)")
	name := myDBName(t, dsn)
	logs := &syncBuffer{}
	src, err := newSource(myDialect{}, Config{DSN: dsn, Cluster: "st", Databases: []string{name}, BlockRows: 100, RangeRows: 500,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, objs := discoverTables(t, myDialect{}, dsn, name, name, []sourcetest.Spec{{Name: "kinds"}})
	obj, data := objs[0], dataFileName(myDialect{}, "kinds")
	_, v1 := backupTable(t, src, obj, nil)
	sums, err := parseBlockSums(v1.Info().Meta[blocksKey])
	if err != nil || sums.layout.n < 15 || sums.layout.n > 25 {
		t.Fatalf("the first backup's block sums (about 20 blocks): %v (%.80q)", err, v1.Info().Meta[blocksKey])
	}
	l := sums.layout
	logs.take()

	w2, v2 := backupTable(t, src, obj, v1)
	blocksLogged(t, logs.take(), fmt.Sprintf("blocks=%d checked=%d changed=0", l.n, l.n), "rows_new=0")
	if !bytes.Equal(w2.Data(data), readAll(t, v1, data)) || w2.NewBytes() > int64(len(w2.Data(schemaFile))+len(w2.Data("load.sql"))) {
		t.Fatalf("an unchanged table's backup differs or stored %d new bytes", w2.NewBytes())
	}

	// Of the 2,000 rows (ids from AUTO_INCREMENT, maybe with gaps): the
	// 150th and 420th updated (the 420th's u from 'NULL' to NULL), the 777th and 778th values swapped, the
	// 1234th and 1250th one byte each, the 1610th deleted, id 0 inserted
	// (block 0) and 50 past the largest id (the last block, open before,
	// is read without checking, and the blocks past it are new).
	id := func(n int) int64 {
		var v int64
		if err := db.QueryRow("SELECT id FROM kinds ORDER BY id LIMIT 1 OFFSET ?", n-1).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	ids := []int64{id(150), id(420), id(777), id(778), id(1234), id(1236), id(1610), 0}
	if l.block(ids[4]) != l.block(ids[5]) {
		ids[5] = id(1232) // the two one-byte changes in one block
	}
	var top int64
	if err := db.QueryRow("SELECT MAX(id) FROM kinds").Scan(&top); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf("UPDATE kinds SET vc = 'changed' WHERE id = %d", ids[0]),
		fmt.Sprintf("UPDATE kinds SET u = IF(u = 'NULL', NULL, 'NULL') WHERE id = %d", ids[1]),
		fmt.Sprintf("UPDATE kinds a JOIN kinds b ON a.id = %d AND b.id = %d SET a.vc = b.vc, b.vc = a.vc", ids[2], ids[3]),
		fmt.Sprintf("UPDATE kinds SET yr = yr + 1 WHERE id IN (%d, %d)", ids[4], ids[5]),
		fmt.Sprintf("DELETE FROM kinds WHERE id = %d", ids[6]),
		"SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
		"INSERT INTO kinds (id, vc, i) VALUES (0, 'below', 1)",
		fmt.Sprintf("INSERT INTO kinds (id, vc, i) SELECT %d + seq, 'past', seq FROM seq_1_to_50", top),
	} {
		myExec(t, db, q)
	}
	w3, v3 := backupTable(t, src, obj, v2)
	changed := map[int]bool{}
	for _, id := range ids {
		if b := l.block(id); b < l.n-1 {
			changed[b] = true
		}
	}
	grown := int((top+50-l.base)/l.width) + 1
	blocksLogged(t, logs.take(), fmt.Sprintf("blocks=%d checked=%d changed=%d", grown, l.n-1, len(changed)))
	wFull, _ := backupTable(t, src, obj, nil)
	if !bytes.Equal(w3.Data(data), wFull.Data(data)) {
		t.Fatalf("the block read's file (%d bytes) differs from a full read's (%d bytes)", len(w3.Data(data)), len(wFull.Data(data)))
	}
	if w3.NewBytes()*5 > int64(len(wFull.Data(data))) {
		t.Errorf("the block read stored %d new bytes of %d", w3.NewBytes(), len(wFull.Data(data)))
	}
	logs.take()

	// Rows changed all over: checking stops after 8 changed blocks.
	myExec(t, db, "UPDATE kinds SET i = i + 1 WHERE id % 20 = 7")
	w4, v4 := backupTable(t, src, obj, v3)
	// 8, or a few more checked while the 8th was (2 workers).
	if l := logs.take(); !regexp.MustCompile(`checked=(8 changed=8|9 changed=9|10 changed=10) `).MatchString(l) {
		t.Fatalf("rows changed all over did not stop the checking after 8 blocks:\n%s", l)
	}
	wFull, _ = backupTable(t, src, obj, nil)
	if !bytes.Equal(w4.Data(data), wFull.Data(data)) {
		t.Fatalf("the file read past the checking differs from a full read's")
	}
	logs.take()

	// A previous file that is not what its sums say: read whole.
	broken := withFile(t, v4, data, append(readAll(t, v4, data), "9999\tx\n"...))
	w5, _ := backupTable(t, src, obj, broken)
	if l := logs.take(); !strings.Contains(l, "block sums add up to") || !bytes.Equal(w5.Data(data), wFull.Data(data)) {
		t.Errorf("a previous file that does not match its sums was not read whole:\n%s", l)
	}
}

// blocksLogged checks the debug line of a backup by blocks.
func blocksLogged(t *testing.T, logs string, want ...string) {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "table written by blocks") {
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Fatalf("backup by blocks: want %q in\n%s", w, line)
				}
			}
			return
		}
	}
	t.Fatalf("no backup by blocks:\n%s", logs)
}

func readAll(t *testing.T, v sources.VersionReader, path string) []byte {
	t.Helper()
	rc, err := v.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBlockLayout checks blocks at the key's ends and past them, how
// ranges group blocks, and the metadata form's round trip.
func TestBlockLayout(t *testing.T) {
	l := newBlockLayout(-5, 94, 1000, 100) // 100 keys, 10 blocks of 10
	if l.n != 10 || l.width != 10 {
		t.Fatalf("layout %+v", l)
	}
	for _, tc := range []struct {
		k    int64
		want int
	}{{-100, 0}, {-5, 0}, {4, 0}, {5, 1}, {94, 9}, {1 << 40, 9}} {
		if got := l.block(tc.k); got != tc.want {
			t.Errorf("block(%d) = %d, want %d", tc.k, got, tc.want)
		}
	}
	wide := newBlockLayout(math.MinInt64, math.MaxInt64, 1<<40, 100)
	if wide.n != maxBlocks || wide.block(math.MinInt64) != 0 || wide.block(math.MaxInt64) != maxBlocks-1 || wide.block(0) != maxBlocks/2 {
		t.Errorf("the whole int64 range: %+v, block(0) = %d", wide, wide.block(0))
	}
	if lo := wide.lo(maxBlocks - 1); lo == "" || lo[0] == '-' {
		t.Errorf("the last block of the whole range starts at %s", lo)
	}
	rs := l.ranges(3, nil)
	if len(rs) != 3 || rs[0].Lo != nil || rs[0].Hi[0] != "25" || rs[1].Lo[0] != "25" || rs[2].Hi != nil || rs[0].block != -1 {
		t.Errorf("ranges %+v", rs)
	}
	s := newBlockSums(l)
	s.add(3, []byte("row hash"), 12)
	s.finish()
	back, err := parseBlockSums(s.String())
	if err != nil || back.String() != s.String() || back.sums[3] != s.sums[3] {
		t.Errorf("round trip of %q: %v", s.String(), err)
	}
	for _, bad := range []string{"", "b1 0 0 1 0 0 -", "b1 0 1 2 0 0 -", "b1 0 1 1 1 10 zz", "b2 0 1 1 0 0 -"} {
		if _, err := parseBlockSums(bad); err == nil {
			t.Errorf("parseBlockSums(%q) accepted", bad)
		}
	}
	if got := string(appendQuote(nil, []byte("a'b\\c\x00d\x1ae"))); got != `'a\'b\\c\0d\Ze'` {
		t.Errorf("appendQuote = %q", got)
	}
}
