package relational

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// The xmin rule (pgUnchanged) extends each tuple's xmin to 64 bits
// through text (xmin::text::bigint) and modular arithmetic on bigint:
// on the 1 GiB bench table that costs the server about 2 s of CPU per
// pass over 6.7 million rows, twice what the sequential scan itself
// takes (a change scan's changed rows: 2.2-3.2 s with it, 1.1-2.0 s with
// the rule below). age(xmin) gives the same distance as a plain int4:
// (int32)(S - xmin), S the transaction id age counts from, fixed for the
// whole transaction at its first use (GetStableLatestTransactionId: the
// transaction's own id, else the next id to be assigned, which is at or
// above the snapshot's xmax C), and INT_MAX for the permanent ids 0-2.
// So with d = S - C (read from age('3') in the same transaction), a tuple
// whose xmin lies back ids below C has age back + d, wrapped to int32,
// and the rule's interval of unchanged distances becomes at most three
// int4 intervals: comparisons the executor runs without allocating.

// pgStableAge returns the 32-bit id age() counts from in c's current
// transaction; the first call fixes it for the transaction.
func pgStableAge(ctx context.Context, c *pgx.Conn) (uint32, error) {
	var a int32
	if err := c.QueryRow(ctx, "SELECT age('3'::xid)").Scan(&a); err != nil {
		return 0, fmt.Errorf("read the transaction id age() counts from: %w", err)
	}
	return uint32(a) + 3, nil
}

// pgUnchangedAge is pgUnchanged's condition written with age(xmin), for a
// transaction whose age() counts from stable. ok is false when the
// distances do not fit an int4 with room to spare (the caller then uses
// pgUnchanged).
func pgUnchangedAge(since string, stable uint32) (cond string, ok bool, err error) {
	f := strings.Split(since, ":")
	if len(f) != 3 {
		return "", false, fmt.Errorf("bad change filter %q", since)
	}
	c, err1 := strconv.ParseUint(f[0], 10, 64)
	b, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || b > c || c-b >= 1<<31 {
		return "", false, fmt.Errorf("bad change filter %q", since)
	}
	d := uint64(stable - uint32(c)) // S - C, modulo 2^32
	far := c - b                    // the farthest changed distance below C
	var listed []uint64
	if f[2] != "-" && f[2] != "" {
		for _, s := range strings.Split(f[2], ",") {
			id, err := strconv.ParseUint(s, 10, 64)
			if err != nil || id >= c {
				return "", false, fmt.Errorf("bad change filter %q", since)
			}
			listed = append(listed, c-id)
			far = max(far, c-id)
		}
	}
	// Every distance the rule tells apart must map to its own age below
	// INT_MAX, which age gives the permanent ids.
	if d+far >= math.MaxInt32-1 {
		return "", false, nil
	}
	// Unchanged: distances back in [c-b+1, c-3] (an id at or above 3 and
	// below b), at most 2^32-1 (one xmin per distance).
	permanent := "x.xmin = ANY ('{0,1,2}'::xid[])"
	lo, hi := c-b+1, min(c-3, 1<<32-1)
	if c < 3 || lo > hi {
		return "(" + permanent + ")", true, nil // no other id can be unchanged
	}
	var in []string
	for _, r := range ageRanges(lo+d, hi+d) {
		in = append(in, fmt.Sprintf("age(x.xmin) BETWEEN %d AND %d", r[0], r[1]))
	}
	cond = "(" + strings.Join(in, " OR ") + ")"
	if len(listed) > 0 {
		ages := make([]string, len(listed))
		for i, back := range listed {
			ages[i] = strconv.FormatUint(back+d, 10)
		}
		cond = "(" + cond + " AND age(x.xmin) <> ALL ('{" + strings.Join(ages, ",") + "}'::int[]))"
	}
	return "(" + cond + " OR " + permanent + ")", true, nil
}

// ageRanges maps the distances [lo, hi] (hi-lo < 2^32) to the int4
// intervals age() returns for them: each distance modulo 2^32, read as a
// signed 32-bit number. INT_MAX is left out: it is the permanent ids'.
func ageRanges(lo, hi uint64) [][2]int64 {
	var out [][2]int64
	for lo <= hi {
		end := min(hi, lo|(1<<31-1)) // the end of lo's half of the 2^32 cycle
		a, z := int64(int32(uint32(lo))), int64(int32(uint32(end)))
		if z == math.MaxInt32 {
			z--
		}
		if a <= z {
			out = append(out, [2]int64{a, z})
		}
		lo = end + 1
	}
	return out
}

// pgUnchangedOn is the xmin rule for statements on c, in c's transaction:
// by age where it fits, else by pgUnchanged.
func pgUnchangedOn(ctx context.Context, c *pgx.Conn, since string) (string, error) {
	stable, err := pgStableAge(ctx, c)
	if err != nil {
		return "", err
	}
	cond, ok, err := pgUnchangedAge(since, stable)
	if err != nil || ok {
		return cond, err
	}
	return pgUnchanged(since)
}
