package cassandra

import (
	"fmt"
	"strconv"
	"strings"
)

// stmt is one data statement as a backup or a diff writes it (see
// render.go), read back by the loader and the differ.
type stmt struct {
	Verb   string // INSERT, UPDATE or DELETE
	Table  string // the name as written, qualified
	JSON   string // INSERT JSON's object
	TS     int64
	HasTS  bool
	TTL    int
	Assign []assign
	Where  []keyCol
	// Cols are the cells a DELETE names (a column, a UDT's field); none
	// deletes the row.
	Cols []colRef
}

// colRef is a column or a field of a UDT column.
type colRef struct {
	Col, Field string
}

// assign is one SET item: Col[.Field] = fromJson(JSON), Col = Col Op
// fromJson(JSON), or (counters) Col = Col + Number.
type assign struct {
	Col, Field string
	Op         string // "=", "+" or "-"
	JSON       string // fromJson's argument
	Number     string // a counter increment
}

// stmtParser walks a statement's tokens.
type stmtParser struct {
	toks []token
	i    int
}

func (p *stmtParser) peek() token {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return token{Kind: -1}
}

func (p *stmtParser) take() token {
	t := p.peek()
	p.i++
	return t
}

func (p *stmtParser) accept(s string) bool {
	if p.peek().is(s) {
		p.i++
		return true
	}
	return false
}

func (p *stmtParser) expect(s string) error {
	if !p.accept(s) {
		return fmt.Errorf("want %s, got %q", s, p.peek().Src)
	}
	return nil
}

// ident reads a (possibly quoted) identifier.
func (p *stmtParser) ident() (string, error) {
	t := p.take()
	if t.Kind != tokIdent && t.Kind != tokQuoted {
		return "", fmt.Errorf("want a name, got %q", t.Src)
	}
	return t.name(), nil
}

// qname reads ks.table and returns it as written.
func (p *stmtParser) qname() (string, error) {
	start := p.i
	if _, err := p.ident(); err != nil {
		return "", err
	}
	if p.accept(".") {
		if _, err := p.ident(); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	for _, t := range p.toks[start:p.i] {
		b.WriteString(t.Src)
	}
	return b.String(), nil
}

func (p *stmtParser) str() (string, error) {
	t := p.take()
	if t.Kind != tokString {
		return "", fmt.Errorf("want a string, got %q", t.Src)
	}
	return t.Text, nil
}

// fromJSON reads fromJson('…').
func (p *stmtParser) fromJSON() (string, error) {
	if !p.accept("fromJson") {
		return "", fmt.Errorf("want fromJson(...), got %q", p.peek().Src)
	}
	if err := p.expect("("); err != nil {
		return "", err
	}
	s, err := p.str()
	if err != nil {
		return "", err
	}
	return s, p.expect(")")
}

// parseStmt reads one statement line.
func parseStmt(line string) (stmt, error) {
	toks, err := lex(line)
	if err != nil {
		return stmt{}, err
	}
	if n := len(toks); n > 0 && toks[n-1].is(";") {
		toks = toks[:n-1]
	}
	p := &stmtParser{toks: toks}
	var st stmt
	switch {
	case p.accept("INSERT"):
		err = p.insert(&st)
	case p.accept("UPDATE"):
		err = p.update(&st)
	case p.accept("DELETE"):
		err = p.delete(&st)
	default:
		err = fmt.Errorf("not an INSERT, UPDATE or DELETE")
	}
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("unexpected %q", p.peek().Src)
	}
	return st, err
}

func (p *stmtParser) insert(st *stmt) error {
	st.Verb = "INSERT"
	if err := p.expect("INTO"); err != nil {
		return err
	}
	var err error
	if st.Table, err = p.qname(); err != nil {
		return err
	}
	if err := p.expect("JSON"); err != nil {
		return err
	}
	if st.JSON, err = p.str(); err != nil {
		return err
	}
	if p.accept("DEFAULT") {
		if err := p.expect("UNSET"); err != nil {
			return err
		}
	}
	return p.using(st)
}

// using reads an optional USING TIMESTAMP n [AND TTL m].
func (p *stmtParser) using(st *stmt) error {
	if !p.accept("USING") {
		return nil
	}
	for {
		switch {
		case p.accept("TIMESTAMP"):
			n, err := strconv.ParseInt(p.take().Text, 10, 64)
			if err != nil {
				return fmt.Errorf("bad TIMESTAMP: %w", err)
			}
			st.TS, st.HasTS = n, true
		case p.accept("TTL"):
			n, err := strconv.Atoi(p.take().Text)
			if err != nil {
				return fmt.Errorf("bad TTL: %w", err)
			}
			st.TTL = n
		default:
			return fmt.Errorf("want TIMESTAMP or TTL, got %q", p.peek().Src)
		}
		if !p.accept("AND") {
			return nil
		}
	}
}

func (p *stmtParser) update(st *stmt) error {
	st.Verb = "UPDATE"
	var err error
	if st.Table, err = p.qname(); err != nil {
		return err
	}
	if err := p.using(st); err != nil {
		return err
	}
	if err := p.expect("SET"); err != nil {
		return err
	}
	for {
		a, err := p.assignment()
		if err != nil {
			return err
		}
		st.Assign = append(st.Assign, a)
		if !p.accept(",") {
			break
		}
	}
	st.Where, err = p.where()
	return err
}

// assignment reads one SET item.
func (p *stmtParser) assignment() (assign, error) {
	var a assign
	var err error
	if a.Col, err = p.ident(); err != nil {
		return a, err
	}
	if p.accept(".") {
		if a.Field, err = p.ident(); err != nil {
			return a, err
		}
	}
	if err := p.expect("="); err != nil {
		return a, err
	}
	if p.peek().is("fromJson") {
		a.Op = "="
		a.JSON, err = p.fromJSON()
		return a, err
	}
	if _, err := p.ident(); err != nil {
		return a, err
	}
	switch t := p.take(); {
	case t.is("+"), t.is("-"):
		a.Op = t.Text
	case t.Kind == tokNumber && strings.HasPrefix(t.Text, "-"):
		a.Op, a.Number = "+", t.Text // "c = c -5" lexes as c, c, -5
		return a, nil
	default:
		return a, fmt.Errorf("want + or -, got %q", t.Src)
	}
	if t := p.peek(); t.Kind == tokNumber {
		a.Number = p.take().Text
		return a, nil
	}
	a.JSON, err = p.fromJSON()
	return a, err
}

// where reads WHERE k = fromJson('…') [AND …].
func (p *stmtParser) where() ([]keyCol, error) {
	if err := p.expect("WHERE"); err != nil {
		return nil, err
	}
	var out []keyCol
	for {
		name, err := p.ident()
		if err != nil {
			return nil, err
		}
		if err := p.expect("="); err != nil {
			return nil, err
		}
		js, err := p.fromJSON()
		if err != nil {
			return nil, err
		}
		out = append(out, keyCol{Name: name, JSON: js})
		if !p.accept("AND") {
			return out, nil
		}
	}
}

func (p *stmtParser) delete(st *stmt) error {
	st.Verb = "DELETE"
	for !p.peek().is("FROM") {
		var c colRef
		var err error
		if c.Col, err = p.ident(); err != nil {
			return err
		}
		if p.accept(".") {
			if c.Field, err = p.ident(); err != nil {
				return err
			}
		}
		st.Cols = append(st.Cols, c)
		if !p.accept(",") {
			break
		}
	}
	if err := p.expect("FROM"); err != nil {
		return err
	}
	var err error
	if st.Table, err = p.qname(); err != nil {
		return err
	}
	if err := p.using(st); err != nil {
		return err
	}
	st.Where, err = p.where()
	return err
}
