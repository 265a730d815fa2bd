package cassandra

import (
	"fmt"
	"strings"
)

// Token kinds of the small CQL lexer the loader and the differ use to
// read back schema.cql and the statements a backup writes.
const (
	tokIdent  = iota // unquoted word (keywords included)
	tokQuoted        // "quoted identifier", unquoted
	tokString        // 'string literal' or $$literal$$, unquoted
	tokNumber        // integer or decimal, sign included
	tokPunct         // one character: ( ) , ; . = + - < > [ ] { } : ?
)

// token is one lexical token and its source text.
type token struct {
	Kind int
	Text string // the value: identifier, unquoted string, number, punctuation
	Src  string // as written
	Off  int    // offset of Src in the lexed text
}

// is reports whether t is the keyword or punctuation s (keywords case-insensitive).
func (t token) is(s string) bool {
	return (t.Kind == tokIdent || t.Kind == tokPunct) && strings.EqualFold(t.Text, s)
}

// name is the identifier t stands for: an unquoted word folds to lower
// case, a quoted one keeps its case.
func (t token) name() string {
	if t.Kind == tokIdent {
		return strings.ToLower(t.Text)
	}
	return t.Text
}

// lex splits CQL text into tokens, skipping whitespace and comments.
func lex(s string) ([]token, error) {
	out := make([]token, 0, 24) // a data statement's tokens
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '-' && i+1 < len(s) && s[i+1] == '-', c == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			j := strings.Index(s[i+2:], "*/")
			if j < 0 {
				return nil, fmt.Errorf("unterminated comment at offset %d", i)
			}
			i += j + 4
		default:
			t, n, err := lexOne(s[i:])
			if err != nil {
				return nil, fmt.Errorf("%w at offset %d", err, i)
			}
			t.Off = i
			out = append(out, t)
			i += n
		}
	}
	return out, nil
}

// lexOne reads the token at the start of s.
func lexOne(s string) (token, int, error) {
	c := s[0]
	switch {
	case c == '\'':
		return lexQuoted(s, '\'', tokString)
	case c == '"':
		return lexQuoted(s, '"', tokQuoted)
	case c == '$' && strings.HasPrefix(s, "$$"):
		j := strings.Index(s[2:], "$$")
		if j < 0 {
			return token{}, 0, fmt.Errorf("unterminated $$ string")
		}
		return token{Kind: tokString, Text: s[2 : 2+j], Src: s[:j+4]}, j + 4, nil
	case isWordStart(c):
		j := 1
		for j < len(s) && (isWordStart(s[j]) || isDigit(s[j])) {
			j++
		}
		return token{Kind: tokIdent, Text: s[:j], Src: s[:j]}, j, nil
	case isDigit(c) || c == '-' && len(s) > 1 && isDigit(s[1]):
		j := 1
		for j < len(s) && (isDigit(s[j]) || s[j] == '.' || s[j] == 'e' || s[j] == 'E' || isWordStart(s[j])) {
			j++
		}
		return token{Kind: tokNumber, Text: s[:j], Src: s[:j]}, j, nil
	case strings.IndexByte("(),;.=+-<>[]{}:?*", c) >= 0:
		return token{Kind: tokPunct, Text: s[:1], Src: s[:1]}, 1, nil
	}
	return token{}, 0, fmt.Errorf("unexpected character %q", c)
}

// lexQuoted reads a literal quoted with q, where qq stands for q.
func lexQuoted(s string, q byte, kind int) (token, int, error) {
	var b strings.Builder
	i := 1
	for {
		j := strings.IndexByte(s[i:], q)
		if j < 0 {
			return token{}, 0, fmt.Errorf("unterminated %c literal", q)
		}
		j += i
		if j+1 < len(s) && s[j+1] == q {
			b.WriteString(s[i : j+1])
			i = j + 2
			continue
		}
		text := s[i:j]
		if b.Len() > 0 {
			b.WriteString(text)
			text = b.String()
		}
		return token{Kind: kind, Text: text, Src: s[:j+1]}, j + 1, nil
	}
}

func isWordStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }

// splitStatements splits CQL text into statements at top-level ';'.
func splitStatements(toks []token) [][]token {
	var out [][]token
	start := 0
	for i, t := range toks {
		if t.Kind == tokPunct && t.Text == ";" {
			if i > start {
				out = append(out, toks[start:i])
			}
			start = i + 1
		}
	}
	if start < len(toks) {
		out = append(out, toks[start:])
	}
	return out
}
