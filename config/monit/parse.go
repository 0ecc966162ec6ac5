// Package monit reads a Monit control file (monitrc) and the files it includes, and
// translates it into tend's configuration: a main file, one drop-in per check, the
// secrets it contained and notes on what could not be translated.
//
// The parser follows the grammar of Monit 5, as src/l.l and src/p.y of Monit's sources
// define it. Keywords are compared without regard to case, and filler words such as
// "with", "for", "and", "using" and "on" are ignored. Commas, semicolons and
// parentheses separate tokens as white space does.
package monit

import (
	"fmt"
	"strconv"
	"strings"
)

// noiseWords are the words that Monit's grammar ignores wherever they appear outside
// quotes.
var noiseWords = map[string]bool{
	"is": true, "as": true, "are": true, "for": true, "via": true, "on": true,
	"only": true, "with": true, "within": true, "without": true, "program": true,
	"programs": true, "and": true, "has": true, "using": true, "use": true, "the": true,
	"to": true, "sum": true, "than": true, "usage": true, "was": true, "times": true,
	"but": true, "of": true, "or": true, "does": true, "per": true, "in": true,
	"last": true, "rate": true, "capacity": true, "activity": true, "option": true,
	"options": true,
}

// parser reads the tokens of a monitrc. It stops at the first syntax error, which it
// raises as a panic of *Error that parse recovers.
type parser struct {
	toks []token
	i    int
	rc   *monitrc
	// last is the position of the last token read, for errors at the end of input.
	last position
}

// parse reads the monitrc at path and the files it includes.
func parse(path string) (rc *monitrc, err error) {
	toks, notes, err := lexFile(path, 0)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, rc: &monitrc{notes: notes}, last: position{file: path, line: 1}}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			rc, err = nil, e
		}
	}()
	p.statements()
	return p.rc, nil
}

func (p *parser) fail(at position, format string, args ...any) {
	panic(errorAt(at, format, args...))
}

// skipNoise moves past filler words.
func (p *parser) skipNoise() {
	for p.i < len(p.toks) && p.toks[p.i].kind == tokWord && noiseWords[strings.ToLower(p.toks[p.i].text)] {
		p.i++
	}
}

// eof reports whether every token, filler words aside, is read.
func (p *parser) eof() bool {
	p.skipNoise()
	return p.i >= len(p.toks)
}

// peek returns the next token after filler words, or a zero token at the end.
func (p *parser) peek() token {
	p.skipNoise()
	if p.i >= len(p.toks) {
		return token{pos: p.last}
	}
	return p.toks[p.i]
}

// peekAt returns the token n places after the next one, filler words counted.
func (p *parser) peekAt(n int) token {
	p.skipNoise()
	if p.i+n >= len(p.toks) {
		return token{pos: p.last}
	}
	return p.toks[p.i+n]
}

// next returns the next token after filler words and moves past it.
func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks) {
		p.i++
		p.last = t.pos
	}
	return t
}

// nextRaw returns the next token, filler words included, and moves past it.
func (p *parser) nextRaw() token {
	if p.i >= len(p.toks) {
		return token{pos: p.last}
	}
	t := p.toks[p.i]
	p.i++
	p.last = t.pos
	return t
}

// accept moves past the next token when it is one of words.
func (p *parser) accept(words ...string) bool {
	if p.peek().is(words...) {
		p.next()
		return true
	}
	return false
}

// describe names a token in an error.
func describe(t token) string {
	switch t.kind {
	case 0:
		return "end of file"
	case tokString:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

// expectWord reads one of words or fails, naming what expected describes.
func (p *parser) expectWord(expected string, words ...string) token {
	t := p.next()
	if !t.is(words...) {
		p.fail(t.pos, "unexpected %s: expected %s", describe(t), expected)
	}
	return t
}

// value reads a word or a quoted string, such as a path or a name.
func (p *parser) value(expected string) token {
	t := p.next()
	if t.kind != tokWord && t.kind != tokString {
		p.fail(t.pos, "unexpected %s: expected %s", describe(t), expected)
	}
	return t
}

// number reads a non-negative integer.
func (p *parser) number(expected string) int {
	t := p.next()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokWord || err != nil || n < 0 {
		p.fail(t.pos, "unexpected %s: expected %s", describe(t), expected)
	}
	return n
}

// isNumber reports whether t is an unsigned decimal number.
func isNumber(t token) bool {
	if t.kind != tokWord {
		return false
	}
	_, err := strconv.ParseFloat(t.text, 64)
	return err == nil && t.text[0] >= '0' && t.text[0] <= '9'
}

// atStatement reports whether the next token starts a top-level statement.
func (p *parser) atStatement() bool {
	return p.eof() || p.peek().is("set", "check")
}

// statements reads the top-level statements: set and check.
func (p *parser) statements() {
	for !p.eof() {
		t := p.peek()
		switch {
		case t.is("set"):
			p.next()
			p.set(t)
		case t.is("check"):
			p.next()
			p.check(t)
		default:
			p.fail(t.pos, "unexpected %s: expected a statement: set, check or include", describe(t))
		}
	}
}

// skipBraces reads a { ... } block, nested blocks included.
func (p *parser) skipBraces() {
	open := p.next()
	if open.kind != tokLBrace {
		p.fail(open.pos, "unexpected %s: expected {", describe(open))
	}
	for depth := 1; depth > 0; {
		t := p.nextRaw()
		switch t.kind {
		case 0:
			p.fail(open.pos, "the { here has no closing }")
		case tokLBrace:
			depth++
		case tokRBrace:
			depth--
		}
	}
}

// skipToStatement reads tokens up to the next top-level statement, skipping brace
// blocks whole.
func (p *parser) skipToStatement() {
	for !p.atStatement() {
		if p.peek().kind == tokLBrace {
			p.skipBraces()
			continue
		}
		p.next()
	}
}

func (p *parser) note(at position, format string, args ...any) {
	p.rc.notes = append(p.rc.notes, noteAt(at, format, args...))
}

// acceptEqual moves past an optional = or equal.
func (p *parser) acceptEqual() {
	if t := p.peek(); t.kind == tokOp && (t.text == "=" || t.text == "==") || t.is("equal", "eq") {
		p.next()
	}
}
