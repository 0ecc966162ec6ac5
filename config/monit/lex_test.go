package monit

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The lexer drops comments, keeps quoted text whole, marks words in parentheses and
// counts lines inside multi-line strings.
func TestLexer(t *testing.T) {
	src := "set daemon 30 # every half minute\n" +
		"if loadavg (5min) > 2, then alert\n" +
		"message: it's \"fine\" }\n" +
		"start program = \"/bin/a\n b\"\nx\n"
	path := filepath.Join(t.TempDir(), "monitrc")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	toks, _, err := lexFile(path, 0)
	if err != nil {
		t.Fatal(err)
	}

	var texts []string
	for _, tok := range toks {
		texts = append(texts, tok.text)
	}
	want := []string{"set", "daemon", "30", "if", "loadavg", "5min", ">", "2", "then", "alert",
		"message:", `it's "fine"`, "}", "start", "program", "=", "/bin/a\n b", "x"}
	if len(texts) != len(want) {
		t.Fatalf("tokens = %q, want %q", texts, want)
	}
	for i := range want {
		if texts[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, texts[i], want[i])
		}
	}

	if !toks[5].inParens || toks[4].inParens {
		t.Errorf("inParens of loadavg, 5min = %v, %v; want false, true", toks[4].inParens, toks[5].inParens)
	}
	if !toks[7].commaAfter {
		t.Errorf("commaAfter of 2 = false, want true")
	}
	if last := toks[len(toks)-1]; last.pos.line != 6 {
		t.Errorf("line of x = %d, want 6", last.pos.line)
	}
}

// splitArgs splits at white space and keeps single-quoted words together, as Monit
// splits a program string.
func TestSplitArgs(t *testing.T) {
	got := splitArgs("/usr/bin/x --name 'two words'  last")
	want := []string{"/usr/bin/x", "--name", "two words", "last"}
	if len(got) != len(want) {
		t.Fatalf("splitArgs = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("argument %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// Import of any text returns a result or an *Error, and never panics.
func FuzzImport(f *testing.F) {
	for _, name := range []string{"testdata/stack/conf.d/app.conf", "testdata/stack/conf.d/host.conf", "testdata/stack/monitrc"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, src string) {
		path := filepath.Join(t.TempDir(), "monitrc")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := Import(path, Options{Hostname: "web1"})
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Import error %v is not an *Error", err)
		}
		if err == nil && res == nil {
			t.Fatal("Import returned neither a result nor an error")
		}
	})
}
