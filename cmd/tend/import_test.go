package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cmdImport writes the configuration, lists the notes and warns about the
// secrets; tend validate then accepts the result once the secrets are loaded.
func TestImportMonit(t *testing.T) {
	fixture := filepath.Join("..", "..", "config", "monit", "testdata", "stack", "monitrc")
	dir := filepath.Join(t.TempDir(), "out")
	var stdout, stderr bytes.Buffer
	if code := cmdImport([]string{"monit", fixture, "--output", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("tend import monit exit code = %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "host.conf:34: if failed ping") {
		t.Errorf("stdout does not list the untranslated ping test:\n%s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "secrets.env contains 6 passwords") {
		t.Errorf("stderr lacks the secrets warning:\n%s", stderr.String())
	}

	env, err := os.ReadFile(filepath.Join(dir, "secrets.env"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(env), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if ok && !strings.HasPrefix(line, "#") {
			value = strings.NewReplacer(`\"`, `"`, `\$`, `$`, `\\`, `\`, "\\`", "`").Replace(strings.Trim(value, `"`))
			t.Setenv(name, value)
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"validate", "--config", filepath.Join(dir, "tend.toml")}, &stdout, &stderr); code != 0 {
		t.Errorf("tend validate of the import exit code = %d, want 0; stderr:\n%s", code, stderr.String())
	}
}

// Usage errors exit 2, and an invalid monitrc exits 1 with its file and line.
func TestImportErrors(t *testing.T) {
	bad := filepath.Join("..", "..", "config", "monit", "testdata", "bad", "no-then.monitrc")
	out := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no source", nil, 2, "the only source is monit"},
		{"other source", []string{"supervisord", "x"}, 2, "the only source is monit"},
		{"no file", []string{"monit", "--output", out}, 2, "want one monitrc file"},
		{"no output", []string{"monit", bad}, 2, "missing --output DIR"},
		{"invalid monitrc", []string{"monit", bad, "--output", out}, 1, "no-then.monitrc:2: unexpected \"restart\": expected then"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := cmdImport(tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Errorf("tend import %q exit code = %d, want %d", tt.args, code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("tend import %q stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.wantErr)
			}
		})
	}
}
