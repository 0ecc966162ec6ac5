package monit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tend/config"
)

// fixtures are the monitrc files that must translate into a configuration that
// config.Load accepts.
var fixtures = []string{
	"testdata/stack/monitrc",
	"testdata/minimal.monitrc",
	"testdata/httpd-public.monitrc",
	// Only a service alert, no set alert or mailserver, and depends on checks it lacks.
	"testdata/stack/conf.d/app.conf",
}

// importInto translates a fixture, writes it into a temporary directory and loads
// its secrets into the environment, as the operator would.
func importInto(t *testing.T, fixture string) (*Result, string) {
	t.Helper()
	res, err := Import(fixture, Options{Hostname: "web1"})
	if err != nil {
		t.Fatalf("Import(%s): %v", fixture, err)
	}
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatalf("Write: %v", err)
	}
	for _, s := range res.Secrets {
		t.Setenv(s.Name, s.Value)
	}
	return res, dir
}

// The output of every fixture passes tend's own validation, with one service per
// drop-in.
func TestImportOutputLoads(t *testing.T) {
	for _, fixture := range fixtures {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			res, dir := importInto(t, fixture)
			cfg, err := config.Load(filepath.Join(dir, "tend.toml"))
			if err != nil {
				t.Fatalf("config.Load of the output: %v\ntend.toml:\n%s", err, res.Main)
			}
			if len(cfg.Services) != len(res.DropIns) {
				t.Errorf("loaded %d services, want %d, one per drop-in", len(cfg.Services), len(res.DropIns))
			}
		})
	}
}

// The stack fixture keeps its settings: interval, servers, routes, queue limit,
// listener, and the rules of each service.
func TestImportStackSettings(t *testing.T) {
	_, dir := importInto(t, "testdata/stack/monitrc")
	cfg, err := config.Load(filepath.Join(dir, "tend.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Interval.D().String(); got != "30s" {
		t.Errorf("interval = %s, want 30s", got)
	}
	if n := len(cfg.Mail.Servers); n != 3 {
		t.Fatalf("mail servers = %d, want 3", n)
	}
	if s := cfg.Mail.Servers[0]; s.Port != 587 || s.Password.Value() != `s3cr"et$x` {
		t.Errorf("first mail server port %d, password from secrets %q; want 587 and the monitrc's", s.Port, s.Password.Value())
	}
	if s := cfg.Mail.Servers[1]; s.Port != 465 || s.TLS != config.TLSImplicit {
		t.Errorf("second mail server port %d tls %v, want 465 and implicit TLS", s.Port, s.TLS)
	}
	if cfg.Alerts.QueueLimit != 100 {
		t.Errorf("queue_limit = %d, want 100 from eventqueue slots", cfg.Alerts.QueueLimit)
	}
	if n := len(cfg.Alerts.Routes); n != 2 {
		t.Fatalf("routes = %d, want 2 (only on, but not on)", n)
	}
	if got := cfg.Alerts.Routes[1].ExceptEvents; len(got) != 3 {
		t.Errorf("but not on { instance, action } gave except_events %v, want tend_started, tend_stopped and restarted", got)
	}
	if cfg.HTTP == nil || cfg.HTTP.Listen != "localhost:2812" || len(cfg.HTTP.Users) != 0 {
		t.Errorf("http = %+v, want localhost:2812 without users", cfg.HTTP)
	}

	byName := map[string]config.Service{}
	for _, s := range cfg.Services {
		byName[s.Name] = s
	}
	redis := byName["redis"]
	if redis.RestartLimit != (config.RestartLimit{Restarts: 5, Cycles: 5}) {
		t.Errorf("redis restart limit = %+v, want 5 within 5", redis.RestartLimit)
	}
	if redis.StartTimeout.D().String() != "1m0s" {
		t.Errorf("redis start_timeout = %s, want 1m0s", redis.StartTimeout.D())
	}
	app := byName["procodile"]
	if app.Match == nil || len(app.DependsOn) != 2 || app.Start[0] != runuser {
		t.Errorf("procodile = match %v, depends_on %v, start %v; want a pattern, redis and postgres, runuser", app.Match, app.DependsOn, app.Start)
	}
	if _, ok := byName["web1"]; !ok {
		t.Errorf("check system $HOST is missing under the host name web1")
	}
	if _, ok := byName["eth0"]; ok {
		t.Errorf("check network eth0 was translated, but tend has no network tests")
	}
}

// Every untranslated statement is listed with its file and line, in the notes file.
func TestImportNotesNameFileAndLine(t *testing.T) {
	res, dir := importInto(t, "testdata/stack/monitrc")
	data, err := os.ReadFile(filepath.Join(dir, "IMPORT-NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"testdata/stack/conf.d/host.conf:34: if failed ping then alert: not translated",
		"testdata/stack/conf.d/host.conf:42: check network eth0 is not translated",
		"testdata/stack/conf.d/app.conf:18: if succeeded port 8080",
		"testdata/stack/conf.d/host.conf:39: if status = 2 then alert: not translated",
		"testdata/stack/monitrc:3: set log is not translated",
		"testdata/stack/monitrc:31: include missing/*.conf matched no file",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("IMPORT-NOTES.txt lacks %q", want)
		}
	}
	if len(res.Notes) == 0 {
		t.Errorf("Result.Notes is empty")
	}
}

// Secrets go to secrets.env with mode 0600 and nowhere else.
func TestImportSecrets(t *testing.T) {
	res, dir := importInto(t, "testdata/stack/monitrc")
	info, err := os.Stat(filepath.Join(dir, "secrets.env"))
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Errorf("secrets.env mode = %04o, want 0600", mode)
	}
	secrets := []string{`s3cr"et`, "relay-pw-2", "hunter2", "pg-secret", "guest-pw"}
	files := []string{"tend.toml", "IMPORT-NOTES.txt"}
	for _, d := range res.DropIns {
		files = append(files, filepath.Join("conf.d", d.Name+".toml"))
	}
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range secrets {
			if strings.Contains(string(data), secret) {
				t.Errorf("%s contains the secret %q", name, secret)
			}
		}
	}
	env, err := os.ReadFile(filepath.Join(dir, "secrets.env"))
	if err != nil {
		t.Fatal(err)
	}
	if want := `TEND_SMTP_PASSWORD="s3cr\"et\$x"`; !strings.Contains(string(env), want) {
		t.Errorf("secrets.env lacks %s:\n%s", want, env)
	}
}

// Write never overwrites an earlier import.
func TestWriteRefusesExistingFiles(t *testing.T) {
	res, err := Import("testdata/minimal.monitrc", Options{Hostname: "web1"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := res.Write(dir); err != nil {
		t.Fatal(err)
	}
	err = res.Write(dir)
	if err == nil || !strings.Contains(err.Error(), "tend.toml exists") {
		t.Errorf("second Write = %v, want an error naming tend.toml", err)
	}
}

// Syntax errors name the file, the line and what was expected.
func TestImportErrors(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"no-name.monitrc", "no-name.monitrc:2: check process without a name: expected check process NAME"},
		{"no-then.monitrc", `no-then.monitrc:2: unexpected "restart": expected then and an action`},
		{"unknown-statement.monitrc", `unknown-statement.monitrc:2: unexpected "frobnicate": expected a statement: set, check or include`},
		{"unbalanced-quote.monitrc", "unbalanced-quote.monitrc:2: unbalanced quote"},
		{"unknown-action.monitrc", `unknown-action.monitrc:2: unexpected "reboot": expected an action`},
		{"no-pidfile.monitrc", `no-pidfile.monitrc:2: unexpected "if": expected pidfile PATH or matching "PATTERN"`},
		{"empty-events.monitrc", "empty-events.monitrc:1: empty event list"},
		{"self.monitrc", "self.monitrc:1: includes are nested more than 16 deep"},
		{"missing.monitrc", "missing.monitrc: cannot read: no such file or directory"},
		{"unknown-setting.monitrc", `unknown-setting.monitrc:2: unknown setting "frobnicate"`},
		{"missing-include.monitrc", "missing-include.monitrc:2: include /nonexistent/tend-test/app.conf: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res, err := Import(filepath.Join("testdata", "bad", tt.file), Options{Hostname: "web1"})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Import = %v, %v; want an *Error", res, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
