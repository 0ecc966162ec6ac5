package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in one configuration file.
//
// Key names the key in the form that Errors documents. It is empty when the problem
// concerns the whole file: the file cannot be read, or it is not valid TOML.
type Error struct {
	// File is the path as Load found it: the path given to Load for the main file, the
	// match of an include glob for a drop-in.
	File string
	// Line is the 1-based line of the key, or of the table that misses a key. It is 0
	// when the problem has no line, as for a file that cannot be read.
	Line int
	Key  string
	// Msg describes the problem and what is allowed. It never contains a secret.
	Msg string
}

// Error formats e as FILE:LINE: KEY: MSG, leaving out the line and the key when they
// are unset.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem that Load found: the main file first, then the drop-ins in
// the order they were loaded, and the problems of one file in line order.
//
// Keys in errors read as follows:
//
//	interval                              a top-level key
//	mail.host                             a key of the [mail] table
//	service "redis" start_timeout         a key of the [[service]] entry named redis
//	service 2 name                        the same for an entry whose name is missing,
//	                                      empty or not a string: the second [[service]]
//	                                      entry of its file
//	service "redis" check 2 above         a key of the service's second [[service.check]]
//	service "redis" restart_limit.cycles  a key of a table inside a service
//	service "redis" environment."A B"     a key that is not a bare key, quoted
//
// A problem with one item of an array names the array as the key and the item, counted
// from 1, in the message.
type Errors []*Error

// Error returns the errors one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors, so that errors.As also finds a single *Error.
func (es Errors) Unwrap() []error {
	list := make([]error, len(es))
	for i, e := range es {
		list[i] = e
	}
	return list
}

// sortByLine orders the errors of one file by line, keeping the order in which they
// were found for errors on the same line.
func sortByLine(es []*Error) {
	slices.SortStableFunc(es, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
}

// wordList joins words as "a, b and c", or with "or" as conj.
func wordList(words []string, conj string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + conj + " " + words[len(words)-1]
}
