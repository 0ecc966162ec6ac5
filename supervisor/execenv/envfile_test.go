package execenv

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeEnvFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "service.env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseEnvironmentFile(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string
	}{
		{"empty file", "", map[string]string{}},
		{"plain", "A=1\nB=two\n", map[string]string{"A": "1", "B": "two"}},
		{"no final newline", "A=1", map[string]string{"A": "1"}},
		{"empty value", "A=\nB=", map[string]string{"A": "", "B": ""}},
		{"blank lines", "\n\n  \nA=1\n\t\n", map[string]string{"A": "1"}},
		{"hash comment", "# comment\nA=1\n  # indented\n", map[string]string{"A": "1"}},
		{"semicolon comment", "; comment\nA=1", map[string]string{"A": "1"}},
		{"comment continued by backslash", "# one \\\nB=2\nA=1", map[string]string{"A": "1"}},
		{"hash inside value", "A=x # y", map[string]string{"A": "x # y"}},
		{"whitespace around key and value", "  A  =   1  \n", map[string]string{"A": "1"}},
		{"inner whitespace kept", "A=one two  three", map[string]string{"A": "one two  three"}},
		{"crlf line ends", "A=1\r\nB=2\r\n", map[string]string{"A": "1", "B": "2"}},
		{"export prefix", "export A=1\nexport\tB=2", map[string]string{"A": "1", "B": "2"}},
		{"key named export", "export=1", map[string]string{"export": "1"}},
		{"key starting with export", "exported=1", map[string]string{"exported": "1"}},
		{"last assignment wins", "A=1\nA=2", map[string]string{"A": "2"}},
		{"equals sign in value", "URL=postgres://h/db?sslmode=disable", map[string]string{"URL": "postgres://h/db?sslmode=disable"}},
		{"single quotes literal", `A='x \n $B "y"'`, map[string]string{"A": `x \n $B "y"`}},
		{"single quotes span lines", "A='one\ntwo'\nB=3", map[string]string{"A": "one\ntwo", "B": "3"}},
		{"single quotes keep whitespace", "A='  x  '  ", map[string]string{"A": "  x  "}},
		{"double quotes", `A="x y"`, map[string]string{"A": "x y"}},
		{"double quote escapes", `A="q\" b\\ t\` + "`" + ` d\$"`, map[string]string{"A": "q\" b\\ t` d$"}},
		{"double quote other backslash kept", `A="a\nb\tc"`, map[string]string{"A": `a\nb\tc`}},
		{"double quote continuation", "A=\"one \\\ntwo\"", map[string]string{"A": "one two"}},
		{"double quotes span lines", "A=\"one\ntwo\"", map[string]string{"A": "one\ntwo"}},
		{"unquoted escape", `A=a\ b\\c\"d`, map[string]string{"A": `a b\c"d`}},
		{"unquoted escaped trailing space kept", `A=a\ `, map[string]string{"A": "a "}},
		{"unquoted continuation", "A=one \\\ntwo\nB=2", map[string]string{"A": "one two", "B": "2"}},
		{"continuation at start of value", "A=\\\n  x", map[string]string{"A": "  x"}},
		{"backslash at end of file", `A=x\`, map[string]string{"A": "x"}},
		{"quoted parts joined", `A='x' "y"z`, map[string]string{"A": "xyz"}},
		{"quote after unquoted text is literal", `A=x"y"`, map[string]string{"A": `x"y"`}},
		{"empty quotes", `A=""` + "\nB=''", map[string]string{"A": "", "B": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvironmentFile(writeEnvFile(t, tt.content))
			if err != nil {
				t.Fatalf("ParseEnvironmentFile(%q): %v", tt.content, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseEnvironmentFile(%q) = %q, want %q", tt.content, got, tt.want)
			}
		})
	}
}

func TestParseEnvironmentFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		line    int
		msg     string
	}{
		{"missing equals", "A=1\nJUSTAKEY\n", 2, `missing = in "JUSTAKEY"`},
		{"missing equals at end of file", "A=1\n\n  LAST", 3, `missing = in "LAST"`},
		{"export without assignment", "export A", 1, `missing = in "export A"`},
		{"empty key", "=1", 1, `invalid variable name ""`},
		{"key with space", "MY VAR=1", 1, `invalid variable name "MY VAR"`},
		{"key with dash", "MY-VAR=1", 1, `invalid variable name "MY-VAR"`},
		{"key starting with digit", "1A=1", 1, `invalid variable name "1A"`},
		{"unterminated single quote", "A=1\nB='open\nC=2\n", 2, "missing closing ' quote"},
		{"unterminated double quote", "A=\"open", 1, `missing closing " quote`},
		{"line counted through continuation", "A=x\\\ny\nB", 3, `missing = in "B"`},
		{"line counted through quoted newlines", "A='x\ny'\nB", 3, `missing = in "B"`},
		{"NUL byte", "A=1\nB=x\x00y", 2, "value of B contains a NUL byte"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeEnvFile(t, tt.content)
			_, err := ParseEnvironmentFile(path)
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("ParseEnvironmentFile(%q) error = %v, want a *ParseError", tt.content, err)
			}
			if perr.File != path {
				t.Errorf("ParseError.File = %q, want %q", perr.File, path)
			}
			if perr.Line != tt.line {
				t.Errorf("ParseError.Line = %d, want %d", perr.Line, tt.line)
			}
			if !strings.HasPrefix(perr.Msg, tt.msg) {
				t.Errorf("ParseError.Msg = %q, want prefix %q", perr.Msg, tt.msg)
			}
			if want := path + ":"; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error %q does not start with %q", err, want)
			}
		})
	}
}

func TestParseEnvironmentFileMissing(t *testing.T) {
	_, err := ParseEnvironmentFile(filepath.Join(t.TempDir(), "absent.env"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ParseEnvironmentFile(absent) error = %v, want fs.ErrNotExist", err)
	}
}
