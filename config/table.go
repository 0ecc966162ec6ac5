package config

import (
	"encoding"
	"fmt"
	"path/filepath"
	"slices"
	"time"
)

// fileDecoder collects what the tables of one file need: its name, its line index and
// its errors.
type fileDecoder struct {
	// name is the path as Load found it, and dir the directory that relative paths in
	// the file resolve against.
	name  string
	dir   string
	lines lineIndex
	errs  []*Error
}

func (f *fileDecoder) add(line int, key, format string, args ...any) {
	f.errs = append(f.errs, &Error{File: f.name, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// resolve joins a relative path to the directory of the file.
func (f *fileDecoder) resolve(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(f.dir, path)
}

// table is one decoded TOML table on its way into a struct. Its getters report every
// problem to the file, naming the key with the table's prefix, and return whether
// they stored a value.
type table struct {
	f *fileDecoder
	// path locates the table in f.lines. prefix names it in errors, such as `mail.`
	// or `service "redis" `.
	path   string
	prefix string
	values map[string]any
}

// has reports whether the table contains key, whatever its type.
func (t *table) has(key string) bool {
	_, ok := t.values[key]
	return ok
}

// line returns the line where the table starts, or 0 for the top level.
func (t *table) line() int { return t.f.lines[t.path] }

// keyLine returns the line of key, or of the table when key is absent.
func (t *table) keyLine(key string) int {
	if line, ok := t.f.lines[keyPath(t.path, key)]; ok {
		return line
	}
	return t.line()
}

// itemLine returns the line of item i of the array at key.
func (t *table) itemLine(key string, i int) int {
	if line, ok := t.f.lines[itemPath(keyPath(t.path, key), i)]; ok {
		return line
	}
	return t.keyLine(key)
}

// keyName returns how errors name key.
func (t *table) keyName(key string) string {
	if !isBareKey(key) {
		key = fmt.Sprintf("%q", key)
	}
	return t.prefix + key
}

// errorf reports a problem with key on the line of key.
func (t *table) errorf(key, format string, args ...any) {
	t.f.add(t.keyLine(key), t.keyName(key), format, args...)
}

// missing reports that key is absent, on the line where the table starts.
func (t *table) missing(key, want string) {
	t.f.add(t.line(), t.keyName(key), "missing: want %s", want)
}

func (t *table) wrongType(key string, v any, want string) {
	t.errorf(key, "got %s, want %s", typeName(v), want)
}

// rejectUnknown reports each key that is not in allowed. Load sorts all errors by line
// afterwards.
func (t *table) rejectUnknown(allowed ...string) {
	var unknown []string
	for key := range t.values {
		if !slices.Contains(allowed, key) {
			unknown = append(unknown, key)
		}
	}
	slices.Sort(unknown)
	for _, key := range unknown {
		t.errorf(key, "unknown key: allowed keys are %s", wordList(allowed, "and"))
	}
}

// str stores the string at key in dst.
func (t *table) str(key string, dst *string) bool {
	v, ok := t.values[key]
	if !ok {
		return false
	}
	s, ok := v.(string)
	if !ok {
		t.wrongType(key, v, "a string")
		return false
	}
	*dst = s
	return true
}

// strs stores the array of strings at key in dst. It stores nothing unless every item
// is a string. example shows such an array in the error for a value of another type.
func (t *table) strs(key string, dst *[]string, example string) bool {
	v, ok := t.values[key]
	if !ok {
		return false
	}
	items, ok := v.([]any)
	if !ok {
		t.wrongType(key, v, "an array of strings such as "+example)
		return false
	}
	list := make([]string, 0, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			t.f.add(t.itemLine(key, i), t.keyName(key),
				"item %d: got %s, want a string", i+1, typeName(item))
			continue
		}
		list = append(list, s)
	}
	if len(list) < len(items) {
		return false
	}
	*dst = list
	return true
}

// integer stores the integer at key in dst.
func (t *table) integer(key string, dst *int) bool {
	v, ok := t.values[key]
	if !ok {
		return false
	}
	n, ok := v.(int64)
	if !ok {
		t.wrongType(key, v, "an integer")
		return false
	}
	*dst = int(n)
	return true
}

// boolean stores the boolean at key in dst and reports whether it was present and
// of the right type.
func (t *table) boolean(key string, dst *bool) bool {
	v, ok := t.values[key]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		t.wrongType(key, v, "true or false")
		return false
	}
	*dst = b
	return true
}

// text parses the string at key into dst. An invalid string gets the error of
// UnmarshalText, and a value of another type an error that shows example.
func (t *table) text(key string, dst encoding.TextUnmarshaler, example string) bool {
	v, ok := t.values[key]
	if !ok {
		return false
	}
	s, ok := v.(string)
	if !ok {
		t.wrongType(key, v, "a string such as "+example)
		return false
	}
	if err := dst.UnmarshalText([]byte(s)); err != nil {
		t.errorf(key, "%v", err)
		return false
	}
	return true
}

// sub returns the table at key, named in errors as the key followed by a dot.
func (t *table) sub(key, example string) (*table, bool) {
	v, ok := t.values[key]
	if !ok {
		return nil, false
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.wrongType(key, v, "a table such as "+example)
		return nil, false
	}
	return &table{f: t.f, path: keyPath(t.path, key), prefix: t.keyName(key) + ".", values: m}, true
}

// entries returns the tables of the array of tables at key, which header shows as
// written in TOML. Their prefix is left for the caller to set.
func (t *table) entries(key, header string) []*table {
	v, ok := t.values[key]
	if !ok {
		return nil
	}
	var maps []map[string]any
	switch v := v.(type) {
	case []map[string]any:
		maps = v
	case []any:
		for _, item := range v {
			if m, ok := item.(map[string]any); ok {
				maps = append(maps, m)
			}
		}
		if len(maps) < len(v) {
			maps = nil
		}
	}
	if maps == nil && !isEmptyArray(v) {
		t.wrongType(key, v, "an array of tables, each introduced by "+header)
		return nil
	}

	list := make([]*table, len(maps))
	for i, m := range maps {
		list[i] = &table{f: t.f, path: itemPath(keyPath(t.path, key), i), values: m}
	}
	return list
}

func isEmptyArray(v any) bool {
	items, ok := v.([]any)
	return ok && len(items) == 0
}

// typeName returns the TOML type of a decoded value, with its article.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case time.Time:
		return "a date or time"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("a value of type %T", v)
}

// resolvePath stores the path at key in dst, joined to the file's directory when it
// is relative. It rejects an empty path.
func (t *table) resolvePath(key string, dst *string) bool {
	var p string
	if !t.str(key, &p) {
		return false
	}
	if p == "" {
		t.errorf(key, "empty: want a path")
		return false
	}
	*dst = t.f.resolve(p)
	return true
}
