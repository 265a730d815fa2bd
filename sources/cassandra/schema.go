package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/gocql/gocql"
)

// Column kinds as system_schema.columns names them.
const (
	kindPartition  = "partition_key"
	kindClustering = "clustering"
	kindStatic     = "static"
	kindRegular    = "regular"
)

// column is one column of a table.
type column struct {
	Name     string
	Kind     string
	Position int
	Type     string // CQL type as system_schema.columns gives it
	Desc     bool   // clustering order DESC
	// Multi is the shape of a non-frozen multi-cell column: "set",
	// "list", "map" or "udt"; "" for a single-cell one.
	Multi string
	// Fields are a non-frozen UDT's field names.
	Fields []string
}

// table is what a backup or load needs of a table's schema.
type table struct {
	Keyspace, Name string
	Partition      []column
	Clustering     []column
	Static         []column
	Regular        []column
	Counter        bool
	// Types are the keyspace's user types by name (fields and types).
	Types map[string]userType
	// derived holds keys() and cellCols(), made once: both were built
	// afresh for every row rendered or scanned (a fifth of a backup's
	// allocations). add and sort drop it.
	derived atomic.Pointer[derivedCols]
}

type derivedCols struct {
	keys, cells []column
	qname       string
	jsonKeys    map[string]string // column name → jsonKey(name)
}

// renamed is the table under another keyspace and name (every field
// but the derived lists, which it makes again).
func (t *table) renamed(ks, name string) *table {
	return &table{Keyspace: ks, Name: name, Partition: t.Partition, Clustering: t.Clustering,
		Static: t.Static, Regular: t.Regular, Counter: t.Counter, Types: t.Types}
}

// cols returns the derived column lists. Their slices are full (capacity
// = length), so a caller's append copies rather than writes into them.
func (t *table) cols() *derivedCols {
	if d := t.derived.Load(); d != nil {
		return d
	}
	k := append(append([]column(nil), t.Partition...), t.Clustering...)
	c := append(append([]column(nil), t.Static...), t.Regular...)
	d := &derivedCols{keys: k[:len(k):len(k)], cells: c[:len(c):len(c)], qname: qualified(t.Keyspace, t.Name),
		jsonKeys: make(map[string]string, len(k)+len(c))}
	for _, col := range append(k, c...) {
		d.jsonKeys[col.Name] = jsonKey(col.Name)
	}
	t.derived.Store(d)
	return d
}

// userType is a user-defined type.
type userType struct {
	Name   string
	Fields []string
	Types  []string
}

// qname is the table's qualified CQL name.
func (t *table) qname() string { return t.cols().qname }

// jsonKey is jsonKey(name), made once per column.
func (t *table) jsonKey(name string) string {
	if k, ok := t.cols().jsonKeys[name]; ok {
		return k
	}
	return jsonKey(name)
}

// keys are the primary key columns, partition then clustering. The
// slice is shared: read it, do not change its elements.
func (t *table) keys() []column { return t.cols().keys }

// errNoTable says a keyspace or table does not exist.
var errNoTable = errors.New("no such table")

// readTable reads a table's columns and the keyspace's user types.
func readTable(ctx context.Context, s *gocql.Session, ks, name string) (*table, error) {
	types, err := readTypes(ctx, s, ks)
	if err != nil {
		return nil, err
	}
	t := &table{Keyspace: ks, Name: name, Types: types}
	iter := s.Query(`SELECT column_name, kind, position, type, clustering_order FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?`, ks, name).
		WithContext(ctx).Iter()
	var c column
	var order string
	for iter.Scan(&c.Name, &c.Kind, &c.Position, &c.Type, &order) {
		c.Desc = strings.EqualFold(order, "desc")
		c.Multi, c.Fields = multiCell(c.Type, types)
		if c.Type == "counter" {
			t.Counter = true
		}
		t.add(c)
		c = column{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read the schema of %s.%s: %w", ks, name, err)
	}
	if len(t.Partition) == 0 {
		return nil, fmt.Errorf("table %s.%s: %w", ks, name, errNoTable)
	}
	t.sort()
	return t, nil
}

func (t *table) add(c column) {
	t.derived.Store(nil)
	switch c.Kind {
	case kindPartition:
		t.Partition = append(t.Partition, c)
	case kindClustering:
		t.Clustering = append(t.Clustering, c)
	case kindStatic:
		t.Static = append(t.Static, c)
	default:
		t.Regular = append(t.Regular, c)
	}
}

// sort orders key columns by position and the others by name, as
// Cassandra lists them.
func (t *table) sort() {
	t.derived.Store(nil)
	byPos := func(cs []column) {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Position < cs[j].Position })
	}
	byName := func(cs []column) {
		sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	}
	byPos(t.Partition)
	byPos(t.Clustering)
	byName(t.Static)
	byName(t.Regular)
}

// readTypes reads the user types of a keyspace.
func readTypes(ctx context.Context, s *gocql.Session, ks string) (map[string]userType, error) {
	types := map[string]userType{}
	iter := s.Query(`SELECT type_name, field_names, field_types FROM system_schema.types WHERE keyspace_name = ?`, ks).WithContext(ctx).Iter()
	var u userType
	for iter.Scan(&u.Name, &u.Fields, &u.Types) {
		types[u.Name] = u
		u = userType{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("read the user types of %s: %w", ks, err)
	}
	return types, nil
}

// multiCell tells a non-frozen collection or UDT from a single-cell type.
// system_schema writes frozen types as frozen<...> (tuples always), a
// non-frozen UDT as its bare name.
func multiCell(typ string, types map[string]userType) (string, []string) {
	for _, kind := range []string{"set", "list", "map"} {
		if strings.HasPrefix(typ, kind+"<") {
			return kind, nil
		}
	}
	if u, ok := types[unquoteIdent(typ)]; ok {
		return "udt", u.Fields
	}
	return "", nil
}

// unquoteIdent reverses cqlIdent for a type name as system_schema gives it.
func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// typeDeps returns the user types a CQL type string names, in order of
// appearance.
func typeDeps(typ string, types map[string]userType) []string {
	var out []string
	for _, tok := range typeTokens(typ) {
		if _, ok := types[tok]; ok {
			out = append(out, tok)
		}
	}
	return out
}

// typeTokens splits a CQL type string into its names (quoted ones
// unquoted), dropping punctuation and numbers.
func typeTokens(typ string) []string {
	var out []string
	for i := 0; i < len(typ); {
		c := typ[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(typ) && !(typ[j] == '"' && (j+1 >= len(typ) || typ[j+1] != '"')) {
				if typ[j] == '"' {
					j++
				}
				j++
			}
			out = append(out, unquoteIdent(typ[i:min(j+1, len(typ))]))
			i = j + 1
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(typ) && (typ[j] == '_' || typ[j] >= 'a' && typ[j] <= 'z' || typ[j] >= 'A' && typ[j] <= 'Z' || typ[j] >= '0' && typ[j] <= '9') {
				j++
			}
			out = append(out, strings.ToLower(typ[i:j]))
			i = j
		default:
			i++
		}
	}
	return out
}

// typeOrder returns the user types the table needs, each after the types
// it uses, so that CREATE TYPE statements run in that order.
func (t *table) typeOrder() []string {
	var order []string
	seen := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		u := t.Types[name]
		for _, ft := range u.Types {
			for _, d := range typeDeps(ft, t.Types) {
				visit(d)
			}
		}
		order = append(order, name)
	}
	for _, c := range t.allColumns() {
		for _, d := range typeDeps(c.Type, t.Types) {
			visit(d)
		}
	}
	return order
}

// allColumns lists the columns: keys, statics, regulars.
func (t *table) allColumns() []column {
	return append(append(t.keys(), t.Static...), t.Regular...)
}
