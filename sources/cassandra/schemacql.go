package cassandra

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/gocql/gocql"
)

// schemaCQL renders schema.cql: the keyspace with its replication, the
// user types the table uses (each after the types it uses), the table,
// its indexes and materialized views, as the server's DESCRIBE writes
// them, each made idempotent with IF NOT EXISTS. cqlsh -f runs it on an
// empty cluster, and again on one that has it.
func schemaCQL(ctx context.Context, s *gocql.Session, t *table) ([]byte, error) {
	var stmts []string
	ks, err := describe(ctx, s, "DESCRIBE ONLY KEYSPACE "+cqlIdent(t.Keyspace))
	if err != nil {
		return nil, err
	}
	stmts = append(stmts, ks...)
	for _, u := range t.typeOrder() {
		ty, err := describe(ctx, s, "DESCRIBE TYPE "+qualified(t.Keyspace, u))
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, ty...)
	}
	tb, err := describe(ctx, s, "DESCRIBE TABLE "+t.qname())
	if err != nil {
		return nil, err
	}
	stmts = append(stmts, tb...)
	var b strings.Builder
	fmt.Fprintf(&b, "-- strata: schema of %s, as DESCRIBE gives it; run with cqlsh -f before the data-*.cql parts\n\n", t.qname())
	for _, st := range stmts {
		b.WriteString(ifNotExists(strings.TrimSpace(st)))
		b.WriteString("\n\n")
	}
	return []byte(b.String()), nil
}

// describe runs a server-side DESCRIBE (Cassandra 4.0 and later) and
// returns its statements.
func describe(ctx context.Context, s *gocql.Session, stmt string) ([]string, error) {
	iter := s.Query(stmt).WithContext(ctx).Iter()
	var out []string
	row := map[string]interface{}{}
	for iter.MapScan(row) {
		if st, ok := row["create_statement"].(string); ok && st != "" {
			out = append(out, st)
		}
		row = map[string]interface{}{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w (the schema is read with server-side DESCRIBE, Cassandra 4.0 or later)", stmt, err)
	}
	return out, nil
}

// createRE finds what a CREATE statement creates, to insert IF NOT
// EXISTS after it.
var createRE = regexp.MustCompile(`^(?i)(CREATE\s+(?:KEYSPACE|TYPE|TABLE|(?:CUSTOM\s+)?INDEX|MATERIALIZED\s+VIEW|FUNCTION|AGGREGATE))\s+`)

// ifNotExists makes a CREATE statement idempotent.
func ifNotExists(st string) string {
	if strings.Contains(strings.ToUpper(st[:min(len(st), 80)]), "IF NOT EXISTS") {
		return st
	}
	m := createRE.FindStringSubmatchIndex(st)
	if m == nil {
		return st
	}
	return st[:m[3]] + " IF NOT EXISTS " + st[m[1]:]
}
