package execenv

import (
	"fmt"
	"os"
	"strings"
)

// ParseError is a syntax error in an environment file.
type ParseError struct {
	File string
	// Line is the 1-based line where the error was found.
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ParseEnvironmentFile reads an environment file in the format of systemd's
// EnvironmentFile= (systemd.exec(5)) and returns its variables. A variable assigned
// twice keeps the last value. The rules:
//
//   - Each assignment is KEY=VALUE. Whitespace around KEY and before VALUE is dropped,
//     and so is trailing whitespace outside quotes. A leading "export " is dropped.
//   - Blank lines are skipped. A line whose first non-blank character is # or ; is a
//     comment. As in systemd, a backslash at the end of a comment line continues the
//     comment onto the next line.
//   - In an unquoted value, a backslash takes the next character literally, and a
//     backslash at the end of a line joins the next line. A # or ; after the start
//     of a value is part of the value.
//   - Single quotes keep everything up to the closing quote literally, newlines too.
//   - Inside double quotes, a backslash escapes ", \, ` and $, a backslash before a
//     newline joins the next line, and before any other character it is kept.
//   - A quoted part may follow another quoted or unquoted part of the same value:
//     A='x' "y"z is xyz. A quote after the first unquoted character is literal.
//
// Unlike systemd, which skips them with a warning, a line without "=", a key that is
// not a shell variable name ([A-Za-z_][A-Za-z0-9_]*) and a NUL byte are errors. A
// syntax error is a *ParseError with the file and line. When the file cannot be read,
// the error wraps that of os.ReadFile.
func ParseEnvironmentFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read environment file: %w", err)
	}
	p := &envParser{file: path, src: string(data), line: 1}
	vars := make(map[string]string)
	for {
		key, value, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return vars, nil
		}
		vars[key] = value
	}
}

// envParser walks an environment file one byte at a time. line counts the newlines
// consumed so far, so errors name the line where they were found.
type envParser struct {
	file string
	src  string
	pos  int
	line int
}

func (p *envParser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// peek returns the next byte, or 0 at the end of the input.
func (p *envParser) peek() byte {
	if p.pos >= len(p.src) {
		return 0
	}
	return p.src[p.pos]
}

func (p *envParser) eof() bool { return p.pos >= len(p.src) }

// advance consumes one byte and returns it.
func (p *envParser) advance() byte {
	c := p.src[p.pos]
	p.pos++
	if c == '\n' {
		p.line++
	}
	return c
}

// next parses the next assignment. ok is false at the end of the input.
func (p *envParser) next() (key, value string, ok bool, err error) {
	for {
		p.skipBlank(" \t\r\n")
		if p.eof() {
			return "", "", false, nil
		}
		if c := p.peek(); c != '#' && c != ';' {
			break
		}
		p.skipComment()
	}

	line := p.line
	key, err = p.key()
	if err != nil {
		return "", "", false, err
	}
	value, err = p.value()
	if err != nil {
		return "", "", false, err
	}
	if strings.IndexByte(value, 0) >= 0 {
		return "", "", false, p.errorf(line, "value of %s contains a NUL byte", key)
	}
	return key, value, true, nil
}

func (p *envParser) skipBlank(set string) {
	for !p.eof() && strings.IndexByte(set, p.peek()) >= 0 {
		p.advance()
	}
}

// skipComment consumes a comment up to the end of its line. A backslash escapes the
// next byte, so a backslash before the newline continues the comment.
func (p *envParser) skipComment() {
	for !p.eof() {
		switch p.advance() {
		case '\n':
			return
		case '\\':
			if !p.eof() {
				p.advance()
			}
		}
	}
}

// key consumes the key and the "=" after it.
func (p *envParser) key() (string, error) {
	line := p.line
	end := strings.IndexAny(p.src[p.pos:], "=\n")
	if end < 0 || p.src[p.pos+end] == '\n' {
		rest := p.src[p.pos:]
		if end >= 0 {
			rest = rest[:end]
		}
		return "", p.errorf(line, "missing = in %q", strings.TrimSpace(rest))
	}
	raw := p.src[p.pos : p.pos+end]
	p.pos += end + 1

	key := strings.TrimSpace(raw)
	if rest, ok := strings.CutPrefix(key, "export"); ok && rest != strings.TrimLeft(rest, " \t") {
		key = strings.TrimLeft(rest, " \t")
	}
	if !validName(key) {
		return "", p.errorf(line, "invalid variable name %q: use letters, digits and _, not starting with a digit", key)
	}
	return key, nil
}

func validName(key string) bool {
	if key == "" || (key[0] >= '0' && key[0] <= '9') {
		return false
	}
	for i := range len(key) {
		c := key[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// value consumes the value up to the newline that ends it, which it also consumes.
// Before the first unquoted character, whitespace is skipped and a quote opens a
// quoted part, as systemd does. Once an unquoted character was read, quotes are
// literal.
func (p *envParser) value() (string, error) {
	var b strings.Builder
	// keep is the length of b without trailing unquoted whitespace.
	keep := 0
	unquoted := false
	for !p.eof() {
		c := p.advance()
		switch {
		case c == '\n':
			return b.String()[:keep], nil
		case c == '\\':
			if p.eof() {
				return b.String()[:keep], nil
			}
			if e := p.advance(); e != '\n' {
				b.WriteByte(e)
				keep = b.Len()
			}
			unquoted = true
		case !unquoted && (c == ' ' || c == '\t'):
		case !unquoted && (c == '\'' || c == '"'):
			if err := p.quoted(c, &b); err != nil {
				return "", err
			}
			keep = b.Len()
		default:
			b.WriteByte(c)
			if c != ' ' && c != '\t' && c != '\r' {
				keep = b.Len()
			}
			unquoted = true
		}
	}
	return b.String()[:keep], nil
}

// quoted consumes a quoted part that quote opened, up to and including its closing
// quote, and appends its text to b.
func (p *envParser) quoted(quote byte, b *strings.Builder) error {
	line := p.line
	for !p.eof() {
		c := p.advance()
		switch {
		case c == quote:
			return nil
		case c == '\\' && quote == '"' && !p.eof():
			e := p.advance()
			switch e {
			case '"', '\\', '`', '$':
				b.WriteByte(e)
			case '\n':
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return p.errorf(line, "missing closing %c quote", quote)
}
