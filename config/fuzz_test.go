package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads each input as a main file and checks that Load never panics, returns
// either a configuration or Errors, and gives a line for every error about a key. Reads are limited to the input's temporary
// directory, so that an include glob such as "/*/*" cannot make the fuzzer read a file
// that blocks, such as /proc/kmsg.
//
// Run it with:
//
//	go test -run '^$' -fuzz FuzzLoad ./config/
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{
		"testdata/good/*.toml", "testdata/good/conf.d/*.toml",
		"testdata/bad/*/tend.toml", "testdata/bad/*/conf.d/*.toml",
	} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, matches...)
	}
	for _, name := range seeds {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "tend.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := load(path, readInside(dir))
		if (cfg == nil) == (err == nil) {
			t.Fatalf("load returned config %v and error %v, want exactly one", cfg, err)
		}
		var list Errors
		if err != nil && !errors.As(err, &list) {
			t.Fatalf("load: error %v (%T) is not Errors", err, err)
		}
		for _, e := range list {
			if e.Key != "" && e.Line == 0 {
				t.Errorf("load: error without a line: %v", e)
			}
		}
	})
}

// readInside returns a read function for load that reads only files inside dir.
func readInside(dir string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		abs, err := filepath.Abs(name)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(abs, dir+string(filepath.Separator)) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return readRegularFile(name)
	}
}

// FuzzIndexLines checks that the line scanner ends without a panic on any text, TOML
// or not, and records no line beyond the text's last.
func FuzzIndexLines(f *testing.F) {
	f.Add("[[service]]\nname = \"a\"\nenv = { A = \"1\" }\nto = [\n'x',\n]\n")
	f.Add("a = \"\"\"\nb\"\"\"\"\"\nc = '''x'''\n")
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		for path, line := range indexLines(src) {
			if line < 1 || line > lines {
				t.Fatalf("indexLines: line of %s = %d, want 1 to %d", path, line, lines)
			}
		}
	})
}
