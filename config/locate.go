package config

import "strings"

// lineIndex maps the path of each key, table and array item of one TOML file to the
// line where it is defined.
//
// A path joins keys with dots and adds the 0-based index of an array item in
// brackets, as in service[1].check[0].above. A key that is not a bare key is quoted
// with strconv.Quote, as in service[0].environment."A B". The TOML library keeps key
// positions private and drops the index of array-of-tables entries, so indexLines
// finds the lines itself.
type lineIndex map[string]int

// indexLines scans src, which the TOML library has already parsed, and returns the
// line of every key, table and array item in it.
//
// The scanner understands only as much TOML as it needs to keep its place: table
// headers, dotted and quoted keys, the four kinds of string, arrays and inline tables
// over several lines, and comments. On text that is not TOML it still ends and returns
// the lines it found, and a caller that misses a path uses the enclosing table's line.
func indexLines(src string) lineIndex {
	s := &lineScanner{src: src, line: 1, lines: lineIndex{}, arrays: map[string]int{}}
	for s.pos < len(s.src) {
		start := s.pos
		s.skipBlank()
		if s.pos < len(s.src) && s.src[s.pos] == '[' {
			s.header()
		} else {
			s.keyValue(s.table)
		}
		if s.pos == start {
			s.advance()
		}
	}
	return s.lines
}

// lineScanner is the state of indexLines.
type lineScanner struct {
	src  string
	pos  int
	line int

	lines lineIndex
	// arrays counts the [[header]] entries of each array of tables, by path.
	arrays map[string]int
	// table is the path of the table that the last header opened.
	table string
}

// advance moves past one byte, counting lines.
func (s *lineScanner) advance() {
	if s.pos < len(s.src) {
		if s.src[s.pos] == '\n' {
			s.line++
		}
		s.pos++
	}
}

// consume moves past c if it is the next byte.
func (s *lineScanner) consume(c byte) bool {
	if s.pos < len(s.src) && s.src[s.pos] == c {
		s.advance()
		return true
	}
	return false
}

// skipSpace moves past spaces and tabs.
func (s *lineScanner) skipSpace() {
	for s.pos < len(s.src) && (s.src[s.pos] == ' ' || s.src[s.pos] == '\t') {
		s.pos++
	}
}

// skipBlank moves past whitespace, line breaks and comments.
func (s *lineScanner) skipBlank() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.advance()
		case '#':
			for s.pos < len(s.src) && s.src[s.pos] != '\n' {
				s.pos++
			}
		default:
			return
		}
	}
}

// define records the line of a table that a dotted key or header creates implicitly,
// unless the table already has one.
func (s *lineScanner) define(path string, line int) {
	if _, ok := s.lines[path]; !ok {
		s.lines[path] = line
	}
}

// header reads a [table] or [[array]] header and makes it the current table.
func (s *lineScanner) header() {
	line := s.line
	s.advance()
	array := s.consume('[')
	keys := s.keys()
	s.skipSpace()
	s.consume(']')
	if array {
		s.consume(']')
	}

	path := ""
	for i, key := range keys {
		path = keyPath(path, key)
		if i == len(keys)-1 && array {
			s.define(path, line)
			n := s.arrays[path]
			s.arrays[path] = n + 1
			path = itemPath(path, n)
			s.lines[path] = line
			break
		}
		// A key that names an array of tables continues in its latest entry.
		if n, ok := s.arrays[path]; ok {
			path = itemPath(path, n-1)
		}
		if i == len(keys)-1 {
			s.lines[path] = line
		} else {
			s.define(path, line)
		}
	}
	s.table = path
}

// keyValue reads key = value into the table at path base.
func (s *lineScanner) keyValue(base string) {
	line := s.line
	keys := s.keys()
	if len(keys) == 0 {
		return
	}
	path := base
	for i, key := range keys {
		path = keyPath(path, key)
		if i < len(keys)-1 {
			s.define(path, line)
		}
	}
	s.lines[path] = line

	s.skipSpace()
	if !s.consume('=') {
		return
	}
	s.skipSpace()
	s.value(path)
}

// keys reads a key made of one or more parts joined by dots.
func (s *lineScanner) keys() []string {
	var keys []string
	for {
		s.skipSpace()
		key, ok := s.key()
		if !ok {
			return keys
		}
		keys = append(keys, key)
		s.skipSpace()
		if !s.consume('.') {
			return keys
		}
	}
}

// key reads one bare or quoted key.
func (s *lineScanner) key() (string, bool) {
	if s.pos >= len(s.src) {
		return "", false
	}
	switch s.src[s.pos] {
	case '"':
		return unescape(s.str()), true
	case '\'':
		return s.str(), true
	}
	start := s.pos
	for s.pos < len(s.src) && isBareKeyByte(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos], s.pos > start
}

// value reads a value of the key or array item at path.
func (s *lineScanner) value(path string) {
	if s.pos >= len(s.src) {
		return
	}
	switch s.src[s.pos] {
	case '"', '\'':
		s.str()
	case '[':
		s.array(path)
	case '{':
		s.inlineTable(path)
	default:
		// A number, boolean or date, which may contain a space: 1979-05-27 07:32:00.
		for s.pos < len(s.src) && !strings.ContainsRune(",]}#\r\n", rune(s.src[s.pos])) {
			s.pos++
		}
	}
}

// array reads an array, recording the line of each item.
func (s *lineScanner) array(path string) {
	s.advance()
	for i := 0; s.pos < len(s.src); i++ {
		s.skipBlank()
		if s.consume(']') {
			return
		}
		start := s.pos
		item := itemPath(path, i)
		s.lines[item] = s.line
		s.value(item)
		s.skipBlank()
		if !s.consume(',') && s.pos == start {
			s.advance()
		}
	}
}

// inlineTable reads { key = value, ... }, which TOML 1.1 lets span lines.
func (s *lineScanner) inlineTable(path string) {
	s.advance()
	for s.pos < len(s.src) {
		s.skipBlank()
		if s.consume('}') {
			return
		}
		start := s.pos
		s.keyValue(path)
		s.skipBlank()
		if !s.consume(',') && s.pos == start {
			s.advance()
		}
	}
}

// str reads a basic or literal string, on one line or several, and returns the text
// between its quotes with escapes left as written.
func (s *lineScanner) str() string {
	quote := s.src[s.pos]
	delim := s.src[s.pos : s.pos+1]
	if strings.HasPrefix(s.src[s.pos:], strings.Repeat(delim, 3)) {
		delim = strings.Repeat(delim, 3)
	}
	s.pos += len(delim)

	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '\\' && quote == '"':
			s.advance()
			s.advance()
		case strings.HasPrefix(s.src[s.pos:], delim):
			// A multi-line string may end with one or two quotes before its delimiter.
			for n := 0; len(delim) == 3 && n < 2 && s.pos+3 < len(s.src) &&
				s.src[s.pos+3] == quote; n++ {
				s.pos++
			}
			end := s.pos
			s.pos += len(delim)
			return s.src[start:end]
		case c == '\n' && len(delim) == 1:
			return s.src[start:s.pos]
		default:
			s.advance()
		}
	}
	return s.src[start:]
}
