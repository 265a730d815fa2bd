package relational

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Reading only the rows changed since the previous version (changes.go),
// for PostgreSQL. Every row version (tuple) carries xmin, the transaction
// that wrote it; an UPDATE writes a new tuple, so a tuple visible now whose
// xmin had completed before the previous version's snapshot was taken was
// visible then too, with the same content: it is the previous version's
// row. The rule is the snapshot's own visibility test: xmin below the
// previous snapshot's xmax and not among the ids in progress at it. Those
// ids come from the snapshot's export file (pg_snapshots/<id>), which
// lists subtransactions too (txid_current_snapshot and
// pg_visible_in_snapshot do not, and are wrong for them); when the file
// cannot be read (no superuser or pg_read_server_files) or its
// subtransaction list overflowed, the rule falls back to xmin below the
// previous snapshot's xmin (every id below it had ended), and rows written
// by transactions between its xmin and xmax are read again.
//
// xmin is 32 bits and wraps around; the snapshots are recorded with
// 64-bit (epoch-extended) ids. A visible tuple's xmin is either within
// 2^31 of the current snapshot (an unfrozen tuple: wraparound protection)
// or frozen, and freezing keeps the raw xmin (PostgreSQL >= 9.4; ids 0-2
// before it). The 32-bit value is extended to the largest 64-bit id not
// above the current snapshot's xmax congruent to it; when the previous
// snapshot lies less than 2^31 ids back, this is exact for every id at or
// after it, and any tuple that is older maps below it or is read again.
//
// The mark is only recorded, and only trusted, on a primary (not in
// recovery) whose system identifier and timeline can be read; a mark from
// another server or timeline (a restore to an earlier point), a table
// recreated (another oid), partitioned or with inheritance children, a
// column of a type whose text output can change without the row changing
// (enum or other user types, reg*, money) all read the table whole.

// pgMark is what a snapshot records for a later change read.
type pgMark struct {
	system, timeline string
	oid              uint32
	xmin, xmax       uint64
	// running are the ids (transactions and subtransactions) in progress
	// at the snapshot, from its export file; exact is false when they
	// are unknown (no access to the file, or the subtransaction list
	// overflowed), and then only ids below xmin count as ended.
	running []uint64
	exact   bool
}

const pgMarkPrefix = "pg2"

func (m pgMark) String() string {
	list := "-"
	if m.exact {
		ids := make([]string, len(m.running))
		for i, x := range m.running {
			ids[i] = strconv.FormatUint(x, 10)
		}
		list = strings.Join(ids, ",")
	}
	return fmt.Sprintf("%s:%s:%s:%d:%d:%d:%s", pgMarkPrefix, m.system, m.timeline, m.oid, m.xmin, m.xmax, list)
}

func parsePgMark(s string) (pgMark, error) {
	f := strings.Split(s, ":")
	if len(f) != 7 || f[0] != pgMarkPrefix || f[1] == "" || f[2] == "" {
		return pgMark{}, fmt.Errorf("unknown change mark %q", s)
	}
	oid, err1 := strconv.ParseUint(f[3], 10, 32)
	xmin, err2 := strconv.ParseUint(f[4], 10, 64)
	xmax, err3 := strconv.ParseUint(f[5], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || xmin > xmax {
		return pgMark{}, fmt.Errorf("bad change mark %q", s)
	}
	m := pgMark{system: f[1], timeline: f[2], oid: uint32(oid), xmin: xmin, xmax: xmax}
	if f[6] == "-" {
		return m, nil
	}
	m.exact = true
	for _, x := range strings.Split(f[6], ",") {
		if x == "" {
			continue
		}
		id, err := strconv.ParseUint(x, 10, 64)
		if err != nil || id < xmin || id >= xmax {
			return pgMark{}, fmt.Errorf("bad change mark %q", s)
		}
		m.running = append(m.running, id)
	}
	return m, nil
}

// parseExportFile reads the in-progress ids of an exported snapshot's
// file (pg_snapshots/<id>: "xip:N" and "sxp:N" lines, "sof:1" when the
// subtransactions overflowed), extended to 64 bits below xmax64. ok is
// false when the list is not complete or does not match xmax64.
func parseExportFile(text string, xmax64 uint64) (ids []uint64, ok bool) {
	var xmax32 uint64
	seen := false
	for _, line := range strings.Split(text, "\n") {
		k, v, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 32)
		switch k {
		case "sof":
			if v != "0" {
				return nil, false
			}
		case "xmax":
			xmax32, seen = n, err == nil
		case "xip", "sxp":
			if err != nil {
				return nil, false
			}
			ids = append(ids, n)
		}
	}
	if !seen || xmax32 != xmax64%(1<<32) {
		return nil, false
	}
	for i, x := range ids {
		back := (xmax32 - x + 1<<32) % (1 << 32)
		if back == 0 || back > xmax64 {
			return nil, false
		}
		ids[i] = xmax64 - back
	}
	return ids, true
}

// pgMarkQuery reads the exported snapshot's xid bounds, the system
// identifier and the timeline, each only where the role may read it.
const pgMarkQuery = `SELECT txid_snapshot_xmin(txid_current_snapshot())::text, txid_snapshot_xmax(txid_current_snapshot())::text,
	pg_is_in_recovery(),
	CASE WHEN has_function_privilege('pg_control_system()', 'EXECUTE')
		THEN (SELECT system_identifier::text FROM pg_control_system()) ELSE '' END,
	CASE WHEN NOT pg_is_in_recovery() AND has_function_privilege('pg_current_wal_lsn()', 'EXECUTE')
		AND has_function_privilege('pg_walfile_name(pg_lsn)', 'EXECUTE')
		THEN substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8) ELSE '' END,
	CASE WHEN has_function_privilege('pg_read_file(text)', 'EXECUTE')
		AND ((SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR pg_has_role('pg_read_server_files', 'MEMBER'))
		THEN pg_read_file('pg_snapshots/' || $1::text) ELSE '' END`

// readMark fills sn.mark in the exporting transaction, inside a savepoint
// so that a failure leaves the snapshot usable (and no mark).
func (sn *pgSnap) readMark(ctx context.Context) {
	c := sn.conns[0]
	if _, err := c.Exec(ctx, "SAVEPOINT strata_mark"); err != nil {
		return
	}
	var xmin, xmax, system, timeline, export string
	var recovery bool
	err := c.QueryRow(ctx, pgMarkQuery, sn.id).Scan(&xmin, &xmax, &recovery, &system, &timeline, &export)
	if err != nil {
		sn.srv.log().Debug("no change mark: reading the snapshot's ids failed", "err", err)
		_, _ = c.Exec(ctx, "ROLLBACK TO SAVEPOINT strata_mark")
		return
	}
	_, _ = c.Exec(ctx, "RELEASE SAVEPOINT strata_mark")
	m, err := parsePgMark(strings.Join([]string{pgMarkPrefix, system, timeline, "0", xmin, xmax, "-"}, ":"))
	if recovery || err != nil {
		return
	}
	m.running, m.exact = parseExportFile(export, m.xmax)
	if !m.exact {
		m.running = nil
		sn.srv.log().Debug("the snapshot's in-progress ids are unknown: change reads count only ids below its xmin as ended")
	}
	sn.mark = &m
}

func (sn *pgSnap) changeMark(t *table) string {
	if sn.mark == nil || t.OID == 0 {
		return ""
	}
	m := *sn.mark
	m.oid = t.OID
	return m.String()
}

// changedSince checks the previous mark against this snapshot and the
// table, and returns the bounds readChanged compares xmin with: "C:S",
// C this snapshot's xmax and S the previous snapshot's xmin.
func (sn *pgSnap) changedSince(ctx context.Context, t *table, prevMark string) (string, string, error) {
	prev, err := parsePgMark(prevMark)
	if err != nil {
		return "", err.Error(), nil
	}
	cur := sn.changeMark(t)
	if cur == "" {
		return "", "this snapshot has no change mark (a standby, or no access to the system identifier or timeline)", nil
	}
	now, _ := parsePgMark(cur)
	switch {
	case now.system != prev.system || now.timeline != prev.timeline:
		return "", "another server or timeline than the previous version's", nil
	case now.oid != prev.oid:
		return "", "the table was recreated since the previous version", nil
	case now.xmax < prev.xmax:
		return "", "the previous version's snapshot is later than this one", nil
	case now.xmax-prev.xmin >= 1<<31:
		return "", "more than 2^31 transactions since the previous version", nil
	}
	c, err := sn.acquire(ctx)
	if err != nil {
		return "", "", err
	}
	defer sn.release(c)
	var plain bool
	err = c.QueryRow(ctx, `SELECT c.relkind = 'r' AND NOT c.relhassubclass AND NOT EXISTS (
			SELECT 1 FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
			LEFT JOIN pg_type e ON e.oid = ty.typelem AND ty.typelem <> 0
			WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
			AND (a.atttypid >= 16384 OR coalesce(e.oid, 0) >= 16384 OR ty.typname LIKE 'reg%' OR e.typname LIKE 'reg%'
				OR ty.typname IN ('money', '_money')))
		FROM pg_class c WHERE c.oid = $1`, t.OID).Scan(&plain)
	if err != nil {
		return "", "", fmt.Errorf("check the table's kind and column types: %w", err)
	}
	if !plain {
		return "", "partitioned, inherited, or a column of a user-defined, reg* or money type", nil
	}
	bound, list := prev.xmin, "-"
	if prev.exact {
		bound, list = prev.xmax, ""
		for i, x := range prev.running {
			if i > 0 {
				list += ","
			}
			list += strconv.FormatUint(x, 10)
		}
	}
	return fmt.Sprintf("%d:%d:%s", now.xmax, bound, list), "", nil
}

// pgUnchanged is the condition on xmin that a row is the previous
// version's, from "C:B:list": xmin, extended to 64 bits below C (this
// snapshot's xmax), lies under B (the previous snapshot's xmax when its
// in-progress ids are known and listed, else its xmin), at or above 3, and
// is not in the list; or it is one of the permanent ids (0-2, frozen
// before 9.4).
func pgUnchanged(since string) (string, error) {
	f := strings.Split(since, ":")
	if len(f) != 3 {
		return "", fmt.Errorf("bad change filter %q", since)
	}
	c, err1 := strconv.ParseUint(f[0], 10, 64)
	b, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || b > c || c-b >= 1<<31 {
		return "", fmt.Errorf("bad change filter %q", since)
	}
	x := "x.xmin::text::bigint"
	back := fmt.Sprintf("((%d - %s) %% 4294967296 + 4294967296) %% 4294967296", c, x)
	cond := fmt.Sprintf("%s BETWEEN %d AND %d", back, c-b+1, int64(c)-3)
	if f[2] != "-" && f[2] != "" {
		for _, id := range strings.Split(f[2], ",") {
			if _, err := strconv.ParseUint(id, 10, 64); err != nil {
				return "", fmt.Errorf("bad change filter %q", since)
			}
		}
		cond += fmt.Sprintf(" AND %d - %s <> ALL ('{%s}'::bigint[])", c, back, f[2])
	}
	return fmt.Sprintf("(%s < 3 OR (%s))", x, cond), nil
}

// readChanged copies one key range out like read, each row prefixed by
// whether it may have changed; an unchanged row's other columns are NULL.
func (sn *pgSnap) readChanged(ctx context.Context, t *table, r keyRange, since string, emit func([]byte) error) error {
	c, err := sn.acquire(ctx)
	if err != nil {
		return err
	}
	defer sn.release(c)
	unchanged, err := pgUnchangedOn(ctx, c, since)
	if err != nil {
		return err
	}
	isKey := map[int]bool{}
	for _, k := range t.Key {
		isKey[k] = true
	}
	sel := []string{"NOT " + unchanged}
	for i, col := range t.dataColumns() {
		name := "x." + pgColumnList([]string{col.Name})
		if !isKey[i] {
			name = "CASE WHEN " + unchanged + " THEN NULL ELSE " + name + " END"
		}
		sel = append(sel, name)
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM ONLY " + pgIdent(t.Schema, t.Name) + " x"
	if where := pgRangeWhere(t, r); where != "" {
		q += " WHERE " + where
	}
	data := t.dataColumns()
	order := make([]string, len(t.Key))
	for i, k := range t.Key {
		order[i] = "x." + pgColumnList([]string{data[k].Name})
	}
	q += " ORDER BY " + strings.Join(order, ", ")
	w := &lineWriter{emit: emit}
	if _, err := c.PgConn().CopyTo(ctx, w, "COPY ("+q+") TO STDOUT"); err != nil {
		return fmt.Errorf("copy the changes of %s out: %w", pgIdent(t.Schema, t.Name), err)
	}
	return w.flush()
}

// changeScan implements changeScanner: the changed rows by one sequential
// scan (a MATERIALIZED CTE, PostgreSQL >= 12, keeps the planner from
// walking the key's index to avoid the sort), sorted by key; and on a
// second connection every key in key order, or the row count and the sum
// of each key column (integer keys only).
func (sn *pgSnap) changeScan(ctx context.Context, t *table, since string) (scanReads, bool, error) {
	if sn.alive.Load() < 2 || pgMajor(sn.conns[0].PgConn().ParameterStatus("server_version")) < 12 {
		return scanReads{}, false, nil
	}
	if _, err := pgUnchanged(since); err != nil {
		return scanReads{}, false, err
	}
	sn.pairMu.Lock()
	defer sn.pairMu.Unlock()
	c1, err := sn.acquire(ctx)
	if err != nil {
		return scanReads{}, false, err
	}
	c2, ok, err := sn.acquireSecond(ctx)
	if err != nil || !ok {
		sn.release(c1)
		return scanReads{}, false, err
	}
	unchanged, err := pgUnchangedOn(ctx, c1, since)
	if err != nil {
		sn.release(c1)
		sn.release(c2)
		return scanReads{}, false, err
	}
	name := pgIdent(t.Schema, t.Name)
	cols := make([]string, 0, len(t.dataColumns()))
	for _, col := range t.dataColumns() {
		cols = append(cols, "x."+pgColumnList([]string{col.Name}))
	}
	qc := "WITH c AS MATERIALIZED (SELECT " + strings.Join(cols, ", ") + " FROM ONLY " + name + " x WHERE NOT " + unchanged +
		") SELECT * FROM c ORDER BY " + pgKeyList(t)
	qk := "SELECT " + pgKeyList(t) + " FROM ONLY " + name + " ORDER BY " + pgKeyList(t)
	sums := ""
	data := t.dataColumns()
	for _, k := range t.Key {
		sums += ", sum(" + pgColumnList([]string{data[k].Name}) + ")"
	}
	// The condition on xmin keeps the planner off an index-only scan of
	// the key, which after scattered updates visits the heap for every
	// page: 3.2-3.9 s of server CPU on the bench table against 1.6 s for
	// the sequential scan, which also runs alongside the changed rows'
	// (synchronized scans share their reads).
	qn := "SELECT count(*)" + sums + " FROM ONLY " + name + " x WHERE x.xmin IS NOT NULL"
	copyOut := func(c *pgx.Conn, q, what string) readFunc {
		return func(ctx context.Context, _ keyRange, emit func([]byte) error) error {
			w := &lineWriter{emit: emit}
			if _, err := c.PgConn().CopyTo(ctx, w, "COPY ("+q+") TO STDOUT"); err != nil {
				return fmt.Errorf("copy the %s of %s out: %w", what, name, err)
			}
			return w.flush()
		}
	}
	return scanReads{changed: copyOut(c1, qc, "changed rows"), count: copyOut(c2, qn, "row count"), keys: copyOut(c2, qk, "keys"),
		release: func() { sn.release(c1); sn.release(c2) }}, true, nil
}

// pgMajor is the major version of a server_version ("15.18 (Debian...)",
// "9.6.24"), 0 when it cannot be read.
func pgMajor(v string) int {
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(v)
	}
	n, err := strconv.Atoi(v[:end])
	if err != nil {
		return 0
	}
	return n
}
