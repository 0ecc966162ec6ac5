package monit

import (
	"errors"
	"fmt"
	"io/fs"
)

// Error is a problem that stops the import: a file that cannot be read, or a
// statement of the monitrc that is not valid Monit syntax.
type Error struct {
	// File and Line locate the problem; Line is 0 when the whole file is concerned.
	File string
	Line int
	// Msg describes what was found and what was expected.
	Msg string
}

// Error formats e as FILE:LINE: MSG.
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

func errorAt(p position, format string, args ...any) *Error {
	return &Error{File: p.file, Line: p.line, Msg: fmt.Sprintf(format, args...)}
}

// Note is a statement of the monitrc that the import did not translate, or translated
// with a different meaning, and what the operator should do about it.
type Note struct {
	File string
	Line int
	Text string
}

// String formats n as FILE:LINE: TEXT.
func (n Note) String() string {
	if n.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", n.File, n.Line, n.Text)
	}
	return fmt.Sprintf("%s: %s", n.File, n.Text)
}

func noteAt(p position, format string, args ...any) Note {
	return Note{File: p.file, Line: p.line, Text: fmt.Sprintf(format, args...)}
}

// describeReadError returns err without the path that fs.PathError repeats.
func describeReadError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
