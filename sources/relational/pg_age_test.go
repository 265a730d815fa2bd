package relational

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/stratabackup/strata/integration/harness"
)

// TestPgUnchangedAgeMatchesText evaluates both forms of the xmin rule on
// the server, in one transaction, for snapshots of several epochs and
// distances from the one age() counts from, and raw xmins at every edge
// of the rule (the bound, listed ids, the permanent ids, the halves of
// the 32-bit cycle): the age form calls a row unchanged exactly when the
// text form does, except at the one distance whose age is INT_MAX (the
// permanent ids' age), which it reads again.
func TestPgUnchangedAgeMatchesText(t *testing.T) {
	ctx := context.Background()
	conn := pgConn(t, harness.PostgresDB(t))
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	stable, err := pgStableAge(ctx, tx.Conn())
	if err != nil {
		t.Fatal(err)
	}
	checked, viaAge := 0, 0
	for _, epoch := range []uint64{0, 1, 7} {
		for _, d := range []uint32{0, 5, 1000} {
			low := stable - d
			if epoch == 0 && low > stable {
				continue // C would lie below id 0
			}
			c := epoch<<32 | uint64(low)
			for _, back := range []uint64{0, 1, 2, 50, 1 << 20, 1<<31 - 10} {
				if back > c {
					continue
				}
				b := c - back
				for _, list := range listsBelow(b, c) {
					since := fmt.Sprintf("%d:%d:%s", c, b, list)
					ok := compareRules(t, tx.Conn(), since, stable, uint64(d))
					checked++
					if ok {
						viaAge++
					}
				}
			}
		}
	}
	if viaAge < checked/2 {
		t.Fatalf("the age form applied to %d of %d filters", viaAge, checked)
	}
}

// listsBelow are in-progress lists for a previous snapshot of xmax b.
func listsBelow(b, c uint64) []string {
	lists := []string{"-", ""}
	if b >= 12 {
		lists = append(lists, strconv.FormatUint(b-1, 10), fmt.Sprintf("%d,%d", b-11, b-3))
	}
	return lists
}

// compareRules checks one filter; false when the age form does not apply.
func compareRules(t *testing.T, conn *pgx.Conn, since string, stable uint32, d uint64) bool {
	t.Helper()
	ctx := context.Background()
	byAge, ok, err := pgUnchangedAge(since, stable)
	if err != nil {
		t.Fatalf("%s: %v", since, err)
	}
	if !ok {
		return false
	}
	byText, err := pgUnchanged(since)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(since, ":")
	c, _ := strconv.ParseUint(f[0], 10, 64)
	b, _ := strconv.ParseUint(f[1], 10, 64)
	backs := []uint64{0, 1, 2, 100, 1<<31 - 2, 1<<31 - 1, 1 << 31, 1<<31 + 1, 1<<32 - 2, 1<<32 - 1, 1<<31 - 1 - d}
	backs = append(backs, c-b-1, c-b, c-b+1, c-b+2)
	if f[2] != "-" && f[2] != "" {
		for _, s := range strings.Split(f[2], ",") {
			id, _ := strconv.ParseUint(s, 10, 64)
			backs = append(backs, c-id-1, c-id, c-id+1)
		}
	}
	raws := []int64{0, 1, 2, 3, 4}
	for _, back := range backs {
		raws = append(raws, int64(uint32(c-back)))
	}
	rows, err := conn.Query(ctx, "SELECT v, "+byText+", "+byAge+" FROM (SELECT v, v::text::xid AS xmin FROM unnest($1::bigint[]) v) x", raws)
	if err != nil {
		t.Fatalf("%s: %v", since, err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw int64
		var text, age bool
		if err := rows.Scan(&raw, &text, &age); err != nil {
			t.Fatal(err)
		}
		intMax := uint32(c-uint64(raw))+uint32(d) == 1<<31-1 && raw >= 3
		if age != text && !(intMax && text && !age) {
			t.Errorf("since %s (age from %d), xmin %d: unchanged by text %v, by age %v", since, stable, raw, text, age)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return true
}
