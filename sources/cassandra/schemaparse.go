package cassandra

import (
	"fmt"
	"strings"
)

// schemaFile is schema.cql read back: its statements and the table they
// define, so that the loader and the differ know the columns without a
// server.
type schemaFile struct {
	text  string
	stmts [][]token
	t     *table
	// Keyspace is the index into stmts of CREATE KEYSPACE, -1 if none.
	Keyspace int
}

// parseSchema reads schema.cql.
func parseSchema(text string) (*schemaFile, error) {
	toks, err := lex(text)
	if err != nil {
		return nil, fmt.Errorf("schema.cql: %w", err)
	}
	sf := &schemaFile{text: text, stmts: splitStatements(toks), Keyspace: -1}
	types := map[string]userType{}
	for i, st := range sf.stmts {
		p := &stmtParser{toks: st}
		if !p.accept("CREATE") {
			continue
		}
		switch {
		case p.accept("KEYSPACE"):
			sf.Keyspace = i
		case p.accept("TYPE"):
			u, err := p.createType()
			if err != nil {
				return nil, fmt.Errorf("schema.cql: CREATE TYPE: %w", err)
			}
			types[u.Name] = u
		case p.accept("TABLE"):
			if sf.t != nil {
				continue
			}
			if sf.t, err = p.createTable(types); err != nil {
				return nil, fmt.Errorf("schema.cql: CREATE TABLE: %w", err)
			}
		}
	}
	if sf.t == nil {
		return nil, fmt.Errorf("schema.cql holds no CREATE TABLE")
	}
	return sf, nil
}

// ifNotExists skips IF NOT EXISTS.
func (p *stmtParser) ifNotExists() {
	if p.accept("IF") {
		p.accept("NOT")
		p.accept("EXISTS")
	}
}

// qualifiedName reads [ks.]name and returns both parts.
func (p *stmtParser) qualifiedName() (ks, name string, err error) {
	if name, err = p.ident(); err != nil {
		return "", "", err
	}
	if p.accept(".") {
		ks = name
		name, err = p.ident()
	}
	return ks, name, err
}

func (p *stmtParser) createType() (userType, error) {
	p.ifNotExists()
	_, name, err := p.qualifiedName()
	if err != nil {
		return userType{}, err
	}
	u := userType{Name: name}
	if err := p.expect("("); err != nil {
		return u, err
	}
	for !p.accept(")") {
		f, err := p.ident()
		if err != nil {
			return u, err
		}
		u.Fields = append(u.Fields, f)
		u.Types = append(u.Types, p.typeText())
		p.accept(",")
	}
	return u, nil
}

// typeText reads a type up to the next top-level ',' or ')' (or a
// column option such as STATIC), as text.
func (p *stmtParser) typeText() string {
	var b strings.Builder
	depth := 0
	for p.i < len(p.toks) {
		t := p.peek()
		if depth == 0 && (t.is(",") || t.is(")") || t.is("STATIC") || t.is("PRIMARY")) {
			break
		}
		switch {
		case t.is("<"):
			depth++
		case t.is(">"):
			depth--
		}
		b.WriteString(t.Src)
		p.i++
	}
	return b.String()
}

func (p *stmtParser) createTable(types map[string]userType) (*table, error) {
	p.ifNotExists()
	ks, name, err := p.qualifiedName()
	if err != nil {
		return nil, err
	}
	t := &table{Keyspace: ks, Name: name, Types: types}
	if err := p.expect("("); err != nil {
		return nil, err
	}
	cols := map[string]*column{}
	var order []string
	var pk, ck []string
	for !p.accept(")") {
		if p.accept("PRIMARY") {
			if pk, ck, err = p.primaryKey(); err != nil {
				return nil, err
			}
		} else if err := p.columnDef(cols, &order, &pk); err != nil {
			return nil, err
		}
		p.accept(",")
	}
	desc := p.clusteringOrder()
	return t.build(cols, order, pk, ck, desc)
}

// columnDef reads "name type [STATIC] [PRIMARY KEY]".
func (p *stmtParser) columnDef(cols map[string]*column, order *[]string, pk *[]string) error {
	name, err := p.ident()
	if err != nil {
		return err
	}
	c := &column{Name: name, Type: p.typeText(), Kind: kindRegular}
	if p.accept("STATIC") {
		c.Kind = kindStatic
	}
	if p.accept("PRIMARY") {
		p.accept("KEY")
		*pk = []string{name}
	}
	cols[name] = c
	*order = append(*order, name)
	return nil
}

// primaryKey reads KEY ((p1, p2), c1, c2) or KEY (p, c1).
func (p *stmtParser) primaryKey() (pk, ck []string, err error) {
	if err := p.expect("KEY"); err != nil {
		return nil, nil, err
	}
	if err := p.expect("("); err != nil {
		return nil, nil, err
	}
	if p.accept("(") {
		for !p.accept(")") {
			n, err := p.ident()
			if err != nil {
				return nil, nil, err
			}
			pk = append(pk, n)
			p.accept(",")
		}
		p.accept(",")
	} else {
		n, err := p.ident()
		if err != nil {
			return nil, nil, err
		}
		pk = []string{n}
		p.accept(",")
	}
	for !p.accept(")") {
		n, err := p.ident()
		if err != nil {
			return nil, nil, err
		}
		ck = append(ck, n)
		p.accept(",")
	}
	return pk, ck, nil
}

// clusteringOrder reads WITH … CLUSTERING ORDER BY (c DESC, …) if there.
func (p *stmtParser) clusteringOrder() map[string]bool {
	desc := map[string]bool{}
	for p.i < len(p.toks) && !p.peek().is("CLUSTERING") {
		p.i++
	}
	if !p.accept("CLUSTERING") || !p.accept("ORDER") || !p.accept("BY") || !p.accept("(") {
		return desc
	}
	for !p.accept(")") && p.i < len(p.toks) {
		n, err := p.ident()
		if err != nil {
			return desc
		}
		desc[n] = p.accept("DESC")
		p.accept("ASC")
		p.accept(",")
	}
	return desc
}

// build sorts the columns into a table.
func (t *table) build(cols map[string]*column, order, pk, ck []string, desc map[string]bool) (*table, error) {
	if len(pk) == 0 {
		return nil, fmt.Errorf("table %s has no PRIMARY KEY", t.Name)
	}
	isKey := map[string]bool{}
	for i, n := range append(append([]string(nil), pk...), ck...) {
		c, ok := cols[n]
		if !ok {
			return nil, fmt.Errorf("key column %s is not defined", n)
		}
		isKey[n] = true
		c.Kind, c.Position, c.Desc = kindPartition, i, desc[n]
		if i >= len(pk) {
			c.Kind, c.Position = kindClustering, i-len(pk)
		}
	}
	for _, n := range order {
		c := cols[n]
		if !isKey[n] {
			c.Multi, c.Fields = multiCell(c.Type, t.Types)
			t.Counter = t.Counter || c.Type == "counter"
		}
		t.add(*c)
	}
	t.sort()
	return t, nil
}
