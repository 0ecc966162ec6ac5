package monit

// This file splits a monitrc into tokens and follows its include statements.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// tokenKind is the lexical class of a token.
type tokenKind int

const (
	// tokWord is an unquoted word, such as check, 95, /var/run/x.pid or ops@example.com.
	tokWord tokenKind = iota + 1
	// tokString is a quoted string, without its quotes.
	tokString
	// tokLBrace and tokRBrace are { and }.
	tokLBrace
	tokRBrace
	// tokPercent is %.
	tokPercent
	// tokOp is a comparison operator made of <, >, =, ! and ~, such as > or !=.
	tokOp
)

// token is one token of a monitrc, with the place it starts.
type token struct {
	kind tokenKind
	text string
	pos  position
	// inParens is true for a word written inside parentheses, as in loadavg (5min) or
	// cpu (user). Elsewhere Monit treats parentheses as white space.
	inParens bool
	// commaAfter is true when a comma follows the token, which continues a depends
	// list.
	commaAfter bool
}

// position is a place in a monitrc.
type position struct {
	file string
	line int
}

// is reports whether t is the unquoted word w, compared without regard to case as
// Monit does.
func (t token) is(words ...string) bool {
	if t.kind != tokWord {
		return false
	}
	for _, w := range words {
		if strings.EqualFold(t.text, w) {
			return true
		}
	}
	return false
}

// maxIncludeDepth bounds nested include statements, so that a file that includes
// itself ends with an error.
const maxIncludeDepth = 16

// lexer turns the text of one file into tokens.
type lexer struct {
	src    string
	i      int
	pos    position
	parens int
	toks   []token
}

// lexFile returns the tokens of the file at path with the files its include statements
// match spliced in place, and the notes about includes that matched nothing.
func lexFile(path string, depth int) ([]token, []Note, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &Error{File: path, Msg: "cannot read: " + describeReadError(err)}
	}
	l := &lexer{src: string(data), pos: position{file: path, line: 1}}
	if err := l.run(); err != nil {
		return nil, nil, err
	}
	return expandIncludes(l.toks, path, depth)
}

// expandIncludes replaces each include statement of toks, read from path, with the
// tokens of the files that its glob matches, in lexical order. A relative pattern is
// joined to the directory of path.
func expandIncludes(toks []token, path string, depth int) ([]token, []Note, error) {
	var out []token
	var notes []Note
	for i := 0; i < len(toks); i++ {
		if !toks[i].is("include") {
			out = append(out, toks[i])
			continue
		}
		inc := toks[i]
		if i+1 >= len(toks) || (toks[i+1].kind != tokWord && toks[i+1].kind != tokString) {
			return nil, nil, errorAt(inc.pos, "include needs a file name or glob pattern, such as include /etc/monit/conf.d/*")
		}
		i++
		if depth >= maxIncludeDepth {
			return nil, nil, errorAt(inc.pos, "includes are nested more than %d deep; does a file include itself?", maxIncludeDepth)
		}
		pattern := toks[i].text
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(filepath.Dir(path), pattern)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			return nil, nil, errorAt(inc.pos, "invalid glob pattern %q: %v", toks[i].text, err)
		}
		slices.Sort(matches)
		switch {
		case len(matches) == 0 && !strings.ContainsAny(toks[i].text, "*?["):
			// Monit rejects an include of a file that does not exist; a pattern may
			// match nothing.
			return nil, nil, errorAt(inc.pos, "include %s: no such file", toks[i].text)
		case len(matches) == 0:
			notes = append(notes, noteAt(inc.pos, "include %s matched no file", toks[i].text))
		}
		for _, m := range matches {
			if info, err := os.Stat(m); err == nil && info.IsDir() {
				continue
			}
			sub, subNotes, err := lexFile(m, depth+1)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, sub...)
			notes = append(notes, subNotes...)
		}
	}
	return out, notes, nil
}

// run splits the whole source into l.toks.
func (l *lexer) run() error {
	for l.i < len(l.src) {
		c := l.src[l.i]
		switch {
		case c == '\n':
			l.pos.line++
			l.i++
		case c == ' ' || c == '\t' || c == '\r' || c == ';':
			l.i++
		case c == ',':
			if n := len(l.toks); n > 0 {
				l.toks[n-1].commaAfter = true
			}
			l.i++
		case c == '(':
			l.parens++
			l.i++
		case c == ')':
			l.parens = max(0, l.parens-1)
			l.i++
		case c == '\\' && strings.HasPrefix(l.src[l.i:], "\\\n"):
			l.i++ // A backslash before a line break continues the line.
		case c == '#':
			l.skipComment()
		case c == '"' || c == '\'':
			if err := l.quoted(c); err != nil {
				return err
			}
		case c == '{':
			l.emit(tokLBrace, "{")
			l.i++
		case c == '}':
			l.emit(tokRBrace, "}")
			l.i++
		case c == '%':
			l.emit(tokPercent, "%")
			l.i++
		case isOpChar(c):
			l.operator()
		default:
			l.word()
		}
	}
	return nil
}

func (l *lexer) emit(kind tokenKind, text string) {
	l.toks = append(l.toks, token{kind: kind, text: text, pos: l.pos, inParens: l.parens > 0})
}

func (l *lexer) skipComment() {
	for l.i < len(l.src) && l.src[l.i] != '\n' {
		l.i++
	}
}

// quoted reads a string in double or single quotes, which may span lines.
func (l *lexer) quoted(quote byte) error {
	start := l.pos
	end := strings.IndexByte(l.src[l.i+1:], quote)
	if end < 0 {
		return errorAt(start, "unbalanced quote: the string that starts here has no closing %c", quote)
	}
	text := l.src[l.i+1 : l.i+1+end]
	l.toks = append(l.toks, token{kind: tokString, text: text, pos: start, inParens: l.parens > 0})
	l.pos.line += strings.Count(text, "\n")
	l.i += end + 2
	return nil
}

func isOpChar(c byte) bool { return strings.IndexByte("<>=!~", c) >= 0 }

func (l *lexer) operator() {
	start := l.i
	for l.i < len(l.src) && isOpChar(l.src[l.i]) {
		l.i++
	}
	l.emit(tokOp, l.src[start:l.i])
}

// isWordEnd reports whether c ends an unquoted word.
func isWordEnd(c byte) bool {
	return c <= ' ' || strings.IndexByte(";,(){}\"'%#", c) >= 0 || isOpChar(c)
}

// word reads an unquoted word. A URL runs to the next white space, so that its query
// may contain = and its user information may contain any character. The mail-format
// fields run to the end of their line (from:, reply-to:, subject:) or to the closing
// brace (message:), as Monit reads them.
func (l *lexer) word() {
	start := l.i
	if isURLStart(l.src[l.i:]) {
		for l.i < len(l.src) && l.src[l.i] > ' ' {
			l.i++
		}
		l.emit(tokWord, l.src[start:l.i])
		return
	}
	for l.i < len(l.src) && !isWordEnd(l.src[l.i]) {
		l.i++
	}
	if l.i == start {
		l.i++ // A control character: skip it.
		return
	}
	text := l.src[start:l.i]
	l.emit(tokWord, text)
	switch strings.ToLower(text) {
	case "from:", "reply-to:", "subject:":
		l.rawField("\n}")
	case "message:":
		l.rawField("}")
	}
}

// rawField emits the text up to the first of the bytes in stops as a string.
func (l *lexer) rawField(stops string) {
	start, startPos := l.i, l.pos
	for l.i < len(l.src) && strings.IndexByte(stops, l.src[l.i]) < 0 {
		if l.src[l.i] == '\n' {
			l.pos.line++
		}
		l.i++
	}
	l.toks = append(l.toks, token{kind: tokString, text: strings.TrimSpace(l.src[start:l.i]), pos: startPos})
}

// isURLStart reports whether s starts with a URL scheme and "://".
func isURLStart(s string) bool {
	i := 0
	for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	return i > 0 && strings.HasPrefix(s[i:], "://")
}
