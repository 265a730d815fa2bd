package cassandra

import (
	"fmt"
	"strings"
)

// rename says how a load renames what schema.cql defines.
type rename struct {
	FromKS, ToKS       string
	FromTable, ToTable string
	// Replication replaces the keyspace's replication map ("" keeps it).
	Replication string
}

// statements returns schema.cql's statements with the keyspace and table
// renamed (every ks.name reference, so types, indexes and views follow)
// and the keyspace's replication replaced, each as text for the server.
func (sf *schemaFile) statements(rn rename) ([]string, error) {
	var out []string
	for i, st := range sf.stmts {
		var edits []edit
		if i == sf.Keyspace {
			e, err := keyspaceEdits(st, rn)
			if err != nil {
				return nil, err
			}
			edits = e
		} else {
			edits = nameEdits(st, rn)
		}
		out = append(out, sf.splice(st, edits))
	}
	return out, nil
}

// edit replaces tokens [From, To) of a statement by Text.
type edit struct {
	From, To int
	Text     string
}

// nameEdits renames ks.name references: the keyspace, and the table
// where the name is the table.
func nameEdits(st []token, rn rename) []edit {
	var out []edit
	for i := 0; i+2 < len(st); i++ {
		if !isName(st[i]) || st[i].name() != rn.FromKS || !st[i+1].is(".") || !isName(st[i+2]) {
			continue
		}
		out = append(out, edit{From: i, To: i + 1, Text: cqlIdent(rn.ToKS)})
		if st[i+2].name() == rn.FromTable && rn.ToTable != rn.FromTable {
			out = append(out, edit{From: i + 2, To: i + 3, Text: cqlIdent(rn.ToTable)})
		}
		i += 2
	}
	return out
}

func isName(t token) bool { return t.Kind == tokIdent || t.Kind == tokQuoted }

// keyspaceEdits renames CREATE KEYSPACE's keyspace and replaces its
// replication map.
func keyspaceEdits(st []token, rn rename) ([]edit, error) {
	p := &stmtParser{toks: st}
	p.accept("CREATE")
	p.accept("KEYSPACE")
	p.ifNotExists()
	if p.i >= len(st) || !isName(st[p.i]) {
		return nil, fmt.Errorf("schema.cql: CREATE KEYSPACE without a name")
	}
	out := []edit{{From: p.i, To: p.i + 1, Text: cqlIdent(rn.ToKS)}}
	if rn.Replication == "" {
		return out, nil
	}
	for i := p.i; i+2 < len(st); i++ {
		if st[i].is("replication") && st[i+1].is("=") && st[i+2].is("{") {
			j := i + 2
			for j < len(st) && !st[j].is("}") {
				j++
			}
			return append(out, edit{From: i + 2, To: j + 1, Text: rn.Replication}), nil
		}
	}
	return nil, fmt.Errorf("schema.cql: CREATE KEYSPACE without replication")
}

// splice renders a statement with edits applied (in token order).
func (sf *schemaFile) splice(st []token, edits []edit) string {
	if len(st) == 0 {
		return ""
	}
	var b strings.Builder
	pos := st[0].Off
	for _, e := range edits {
		b.WriteString(sf.text[pos:st[e.From].Off])
		b.WriteString(e.Text)
		last := st[e.To-1]
		pos = last.Off + len(last.Src)
	}
	last := st[len(st)-1]
	b.WriteString(sf.text[pos : last.Off+len(last.Src)])
	return b.String()
}

// checkReplication accepts a CQL map literal such as
// {'class':'SimpleStrategy','replication_factor':1}.
func checkReplication(s string) error {
	if s == "" {
		return nil
	}
	toks, err := lex(s)
	if err != nil || len(toks) < 2 || !toks[0].is("{") || !toks[len(toks)-1].is("}") {
		return fmt.Errorf("bad replication %q: want a CQL map such as {'class':'SimpleStrategy','replication_factor':1}", s)
	}
	return nil
}
