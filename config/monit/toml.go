package monit

// This file writes TOML: tables, keys and comments in the order the translation
// builds them.

import (
	"fmt"
	"strconv"
	"strings"
)

// keyValue is one key of a table, with an optional comment on the line before it.
type keyValue struct {
	key     string
	value   any
	comment string
}

// inline is a value written as it is, such as an inline table.
type inline string

// tomlDoc builds a TOML document.
type tomlDoc struct {
	b strings.Builder
}

// comment writes text as comment lines.
func (d *tomlDoc) comment(text string) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			d.b.WriteString("#\n")
			continue
		}
		d.b.WriteString("# " + line + "\n")
	}
}

// table writes a blank line, the comment and the header of a table.
func (d *tomlDoc) table(header, comment string) {
	if d.b.Len() > 0 {
		d.b.WriteString("\n")
	}
	if comment != "" {
		d.comment(comment)
	}
	d.b.WriteString(header + "\n")
}

// keys writes key = value lines.
func (d *tomlDoc) keys(kvs []keyValue) {
	for _, kv := range kvs {
		if kv.comment != "" {
			d.comment(kv.comment)
		}
		d.b.WriteString(kv.key + " = " + tomlValue(kv.value) + "\n")
	}
}

func (d *tomlDoc) bytes() []byte { return []byte(d.b.String()) }

// tomlValue formats a string, integer, float, boolean, string list or inline value.
func tomlValue(v any) string {
	switch v := v.(type) {
	case string:
		return tomlString(v)
	case int:
		return strconv.Itoa(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case []string:
		items := make([]string, len(v))
		for i, s := range v {
			items[i] = tomlString(s)
		}
		return "[" + strings.Join(items, ", ") + "]"
	case inline:
		return string(v)
	}
	panic(fmt.Sprintf("tomlValue: unsupported type %T", v))
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
