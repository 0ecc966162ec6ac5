package config

// This file contains the key paths of lineIndex and the TOML key syntax they need.

import (
	"strconv"
	"strings"
)

// keyPath returns the path of key inside the table at path parent.
func keyPath(parent, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// itemPath returns the path of item i of the array at path parent.
func itemPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

func isBareKey(key string) bool {
	for _, c := range []byte(key) {
		if !isBareKeyByte(c) {
			return false
		}
	}
	return key != ""
}

func isBareKeyByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-'
}

// unescape replaces the escape sequences of a TOML basic string. It leaves an invalid
// sequence as written, which the TOML parser has rejected before.
func unescape(raw string) string {
	if strings.IndexByte(raw, '\\') < 0 {
		return raw
	}
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			if r, n, ok := decodeEscape(raw[i+1:]); ok {
				b.WriteRune(r)
				i += n
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// decodeEscape decodes the escape sequence at the start of s, which follows a
// backslash, and returns its character and length.
func decodeEscape(s string) (rune, int, bool) {
	digits := 0
	switch s[0] {
	case 'b':
		return '\b', 1, true
	case 't':
		return '\t', 1, true
	case 'n':
		return '\n', 1, true
	case 'f':
		return '\f', 1, true
	case 'r':
		return '\r', 1, true
	case 'e':
		return 0x1b, 1, true
	case '"', '\\':
		return rune(s[0]), 1, true
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	default:
		return 0, 0, false
	}
	if len(s) <= digits {
		return 0, 0, false
	}
	code, err := strconv.ParseUint(s[1:1+digits], 16, 32)
	if err != nil {
		return 0, 0, false
	}
	return rune(code), 1 + digits, true
}
