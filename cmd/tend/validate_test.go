package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// tend validate prints every configuration error on its own line, naming file, line and
// key, and exits 1; a valid configuration exits 0.
func TestValidate(t *testing.T) {
	bad := filepath.Join("..", "..", "config", "testdata", "bad")
	tests := []struct {
		name     string
		config   string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{
			name:     "three errors in one file",
			config:   filepath.Join(bad, "three-errors", "tend.toml"),
			wantCode: 1,
			wantErr: bad + `/three-errors/tend.toml:1: interval: invalid duration "30 seconds": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"
` + bad + `/three-errors/tend.toml:6: service "redis" stop_signal: unknown signal "SIGSTOP": want HUP, INT, QUIT, KILL, USR1, USR2 or TERM, with or without the SIG prefix
` + bad + `/three-errors/tend.toml:11: service "redis" check 1 action: unknown action "page": want alert, restart, start, stop, exec or unmonitor
tend: 3 configuration errors
`,
		},
		{
			name:     "syntax error in one drop-in, unknown key in another",
			config:   filepath.Join(bad, "syntax-error-in-drop-in", "tend.toml"),
			wantCode: 1,
			wantErr: bad + `/syntax-error-in-drop-in/conf.d/a.toml:3: invalid TOML: expected a comma (',') or array terminator (']'), but got end of file
` + bad + `/syntax-error-in-drop-in/conf.d/b.toml:4: service "other" restart: unknown key: allowed keys are name, pidfile, match, match_pick, start, stop, command, directory, environment, environment_file, inherit_environment, user, group, log_file, log_max_size, log_max_files, depends_on, groups, notify, watchdog, watchdog_action, stop_signal, start_timeout, stop_timeout, restart_limit, restart_delay, restart_delay_max, stable_after, alert and check
tend: 2 configuration errors
`,
		},
		{
			name:     "quickstart",
			config:   filepath.Join("..", "..", "examples", "quickstart", "tend.toml"),
			wantCode: 0,
			wantOut:  filepath.Join("..", "..", "examples", "quickstart", "tend.toml") + ": configuration is valid: 1 service\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run([]string{"validate", "--config", tt.config}, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("tend validate exit code = %d, want %d", code, tt.wantCode)
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("tend validate stdout:\n%s\nwant:\n%s", stdout.String(), tt.wantOut)
			}
			if stderr.String() != tt.wantErr {
				t.Errorf("tend validate stderr:\n%s\nwant:\n%s", stderr.String(), tt.wantErr)
			}
		})
	}
}

// A missing configuration file is an error that names it.
func TestValidateMissingFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := filepath.Join(t.TempDir(), "none.toml")
	if code := run([]string{"validate", "--config", path}, &stdout, &stderr); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if !bytes.Contains(stderr.Bytes(), []byte(path)) {
		t.Errorf("stderr %q does not name %s", stderr.String(), path)
	}
	_ = os.Remove(path)
}

// Unknown commands and arguments are usage errors with exit code 2.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"validate", "extra"}, {"run", "--bogus"}} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) exit code = %d, want 2", args, code)
		}
	}
}
