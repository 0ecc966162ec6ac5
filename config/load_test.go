package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// defaultService returns a service with the defaults of every key but name.
func defaultService(name string, pos Position) Service {
	s := newService(pos)
	s.Name = name
	return s
}

// ruleAt returns a check of type typ at pos with the defaults of every key but
// for_cycles and action.
func ruleAt(typ CheckType, pos Position, forCycles int, action Action) Check {
	c := newCheck(pos)
	c.Type, c.ForCycles, c.Action = typ, forCycles, action
	return c
}

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/good/tend.toml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	const (
		main  = "testdata/good/tend.toml"
		app   = "testdata/good/conf.d/app.toml"
		redis = "testdata/good/conf.d/redis.toml"
	)
	at := func(file string, line int) Position { return Position{File: file, Line: line} }

	caddy := defaultService("caddy", at(main, 23))
	caddy.Command = []string{"/usr/bin/caddy", "run", "--config", "/etc/caddy/Caddyfile"}
	caddyCPU := ruleAt(CheckCPU, at(main, 27), 5, ActionRestart)
	caddyCPU.Of = CPUScopeMachine
	caddyCPU.Limit = Limit{Value: 90, Unit: UnitPercent, Text: "90%"}
	caddy.Checks = []Check{ruleAt(CheckProcess, at(main, 23), 1, ActionRestart), caddyCPU}

	puma := defaultService("puma", at(app, 2))
	puma.Command = []string{"bundle", "exec", "puma", "-C", "config/puma.rb"}
	puma.Directory = "testdata/good/app"
	puma.Environment = map[string]string{"RAILS_ENV": "production", "WEB_CONCURRENCY": "2"}
	puma.StopSignal = Signal(syscall.SIGINT)
	puma.StopTimeout = Duration(45 * time.Second)
	puma.RestartLimit = RestartLimit{Restarts: 10, Cycles: 5}
	puma.Checks = []Check{ruleAt(CheckProcess, at(app, 16), 2, ActionAlert)}

	sidekiq := defaultService("sidekiq.default", at(app, 20))
	sidekiq.Command = []string{"bundle", "exec", "sidekiq", "--queue", ""}
	sidekiq.Checks = []Check{ruleAt(CheckProcess, at(app, 20), 1, ActionRestart)}

	redisService := defaultService("redis", at(redis, 2))
	redisService.Pidfile = "testdata/good/conf.d/run/redis.pid"
	redisService.Start = []string{"/etc/init.d/redis-server", "start"}
	redisService.Stop = []string{"/etc/init.d/redis-server", "stop"}
	redisService.StartTimeout = Duration(time.Minute)
	redisService.RestartLimit = RestartLimit{Restarts: 3, Cycles: 10}
	redisTCP := ruleAt(CheckTCP, at(redis, 10), 1, ActionRestart)
	redisTCP.Address, redisTCP.TLSVerify = "127.0.0.1:6379", true
	redisTCP.Timeout = Duration(DefaultProbeTimeout)
	redisCPU := ruleAt(CheckCPU, at(redis, 15), 3, ActionRestart)
	redisCPU.Of = CPUScopeMachine
	redisCPU.Limit = Limit{Value: 95, Unit: UnitPercent, Text: "95%"}
	redisTotalMemory := ruleAt(CheckTotalMemory, at(redis, 21), 1, ActionAlert)
	redisTotalMemory.Limit = Limit{Value: 600 << 20, Unit: UnitBytes, Text: "600 MB"}
	redisMemory := ruleAt(CheckMemory, at(redis, 25), 1, ActionAlert)
	redisMemory.Limit = Limit{Value: 2.5, Unit: UnitPercent, Text: "2.5%"}
	redisService.Checks = []Check{
		ruleAt(CheckProcess, at(redis, 2), 1, ActionRestart), redisTCP, redisCPU, redisTotalMemory, redisMemory,
	}

	postgres := defaultService("postgres", at(redis, 30))
	postgres.Pidfile = "/var/run/postgresql/14-main.pid"
	postgresTCP := ruleAt(CheckTCP, at(redis, 34), 1, ActionAlert)
	postgresTCP.Address, postgresTCP.TLSVerify = "localhost:5432", true
	postgresTCP.Timeout = Duration(2 * time.Second)
	postgres.Checks = []Check{ruleAt(CheckProcess, at(redis, 30), 1, ActionAlert), postgresTCP}

	want := &Config{
		Path:     main,
		Interval: Duration(10 * time.Second),
		StateDir: "testdata/good/state",
		Include: []string{
			"testdata/good/conf.d/*.toml", main, redis, "testdata/good/nothing/*.toml",
		},
		Hostname: "web1",
		Alerts:   defaultAlerts(),
		Control:  Control{Socket: DefaultControlSocket},
		Mail: &Mail{
			Servers: []MailServer{{
				Host: "smtp.example.com", Port: 465, TLS: TLSImplicit, Auth: MailAuthAuto,
				Username: "tend", Password: NewSecret("correct horse battery staple"),
				Timeout: Duration(DefaultMailTimeout), Pos: at(main, 13),
			}},
			From: "Tend <tend@example.com>", To: []string{"ops@example.com", "oncall@example.com"},
			Pos: at(main, 13),
		},
		// The main file's services first, then the drop-ins in lexical order.
		Services: []Service{caddy, puma, sidekiq, redisService, postgres},
	}

	if !reflect.DeepEqual(cfg.Mail, want.Mail) {
		t.Errorf("Load: Mail =\n%+v\nwant\n%+v", cfg.Mail, want.Mail)
	}
	if got := cfg.Mail.Servers[0].Password.Value(); got != "correct horse battery staple" {
		t.Errorf("Load: Mail.Servers[0].Password.Value() = %q, want %q", got, "correct horse battery staple")
	}
	if len(cfg.Services) != len(want.Services) {
		t.Fatalf("Load: %d services, want %d: %+v", len(cfg.Services), len(want.Services), cfg.Services)
	}
	for i := range want.Services {
		if !reflect.DeepEqual(cfg.Services[i], want.Services[i]) {
			t.Errorf("Load: service %d =\n%+v\nwant\n%+v", i, cfg.Services[i], want.Services[i])
		}
	}
	cfg.Mail, cfg.Services, want.Mail, want.Services = nil, nil, nil, nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load: Config =\n%+v\nwant\n%+v", cfg, want)
	}
}

// writeFiles creates the named files with their contents in a new temporary directory
// and returns the directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDefaults(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tend.toml": `
[mail]
host = "smtp.example.com"
from = "tend@example.com"
to = ["ops@example.com"]

[[service]]
name = "app"
command = ["app"]

[[service.check]]
type = "tcp"
address = "127.0.0.1:8080"
`})
	path := filepath.Join(dir, "tend.toml")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}

	hostname, err := os.Hostname()
	if err != nil {
		t.Fatalf("os.Hostname: %v", err)
	}
	service := defaultService("app", Position{File: path, Line: 7})
	service.Command = []string{"app"}
	tcp := ruleAt(CheckTCP, Position{File: path, Line: 11}, 1, ActionAlert)
	tcp.Address, tcp.TLSVerify = "127.0.0.1:8080", true
	tcp.Timeout = Duration(DefaultProbeTimeout)
	service.Checks = []Check{ruleAt(CheckProcess, Position{File: path, Line: 7}, 1, ActionRestart), tcp}
	want := &Config{
		Path:     path,
		Interval: Duration(DefaultInterval),
		StateDir: DefaultStateDir,
		Hostname: hostname,
		Alerts:   defaultAlerts(),
		Control:  Control{Socket: DefaultControlSocket},
		Mail: &Mail{
			Servers: []MailServer{{
				Host: "smtp.example.com", Port: 587, TLS: TLSStartTLS, Auth: MailAuthAuto,
				Timeout: Duration(DefaultMailTimeout), Pos: Position{File: path, Line: 2},
			}},
			From: "tend@example.com", To: []string{"ops@example.com"},
			Pos: Position{File: path, Line: 2},
		},
		Services: []Service{service},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load(%s) =\n%+v\nwant\n%+v", path, cfg, want)
	}
	if !reflect.DeepEqual(cfg.Mail, want.Mail) {
		t.Errorf("Load(%s): Mail =\n%+v\nwant\n%+v", path, cfg.Mail, want.Mail)
	}
}

func TestLoadMailPort(t *testing.T) {
	tests := []struct {
		name string
		keys string
		want int
	}{
		{name: "none", keys: `tls = "none"`, want: 25},
		{name: "starttls", keys: `tls = "starttls"`, want: 587},
		{name: "tls", keys: `tls = "tls"`, want: 465},
		{name: "starttls_optional", keys: `tls = "starttls_optional"`, want: 587},
		{name: "default", keys: ``, want: 587},
		{name: "explicit", keys: "tls = \"tls\"\nport = 2465", want: 2465},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"tend.toml": "[mail]\n" + tt.keys + `
host = "smtp.example.com"
from = "tend@example.com"
to = ["ops@example.com"]
`})
			cfg, err := Load(filepath.Join(dir, "tend.toml"))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := cfg.Mail.Servers[0].Port; got != tt.want {
				t.Errorf("Load: Mail.Servers[0].Port = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestLoadPasswordSources(t *testing.T) {
	t.Setenv("TEND_TEST_PASSWORD", "from the environment")
	tests := []struct {
		name string
		key  string
		want string
	}{
		{name: "inline", key: `password = "inline secret"`, want: "inline secret"},
		{name: "environment", key: `password_env = "TEND_TEST_PASSWORD"`, want: "from the environment"},
		{name: "file", key: `password_file = "secret"`, want: "from a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"secret": "from a file\r\n",
				"tend.toml": "[mail]\n" + tt.key + `
host = "smtp.example.com"
username = "tend"
from = "tend@example.com"
to = ["ops@example.com"]
`,
			})
			cfg, err := Load(filepath.Join(dir, "tend.toml"))
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := cfg.Mail.Servers[0].Password.Value(); got != tt.want {
				t.Errorf("Load: Mail.Servers[0].Password.Value() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadBad loads testdata/bad/NAME/tend.toml for each case, with its drop-ins, and
// compares the errors with the exact list. File names in the errors are made relative
// to the case's directory.
func TestLoadBad(t *testing.T) {
	// The password-env-unset case names this variable.
	t.Setenv("TEND_TEST_UNSET_PASSWORD", "")
	if err := os.Unsetenv("TEND_TEST_UNSET_PASSWORD"); err != nil {
		t.Fatal(err)
	}

	cases := badCases()
	t.Run("every directory has a case", func(t *testing.T) {
		dirs, err := os.ReadDir(filepath.Join("testdata", "bad"))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range dirs {
			if !slices.ContainsFunc(cases, func(c badCase) bool { return c.name == dir.Name() }) {
				t.Errorf("testdata/bad/%s has no entry in badCases", dir.Name())
			}
		}
	})

	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "bad", tt.name)
			cfg, err := Load(filepath.Join(dir, "tend.toml"))
			if cfg != nil {
				t.Errorf("Load: config = %+v, want nil", cfg)
			}
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("Load: error %v (%T) is not Errors", err, err)
			}

			got := make([]string, len(list))
			for i, e := range list {
				got[i] = strings.ReplaceAll(e.Error(), dir+string(filepath.Separator), "")
				if strings.Contains(got[i], "hunter2") {
					t.Errorf("Load: error %q contains the password", got[i])
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load: errors\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
		})
	}
}

func TestLoadErrorsAs(t *testing.T) {
	_, err := Load("testdata/bad/three-errors/tend.toml")

	var list Errors
	if !errors.As(err, &list) {
		t.Fatalf("errors.As(%v, *Errors) = false", err)
	}
	if len(list) != 3 {
		t.Errorf("len(Errors) = %d, want 3", len(list))
	}

	var first *Error
	if !errors.As(err, &first) {
		t.Fatalf("errors.As(%v, **Error) = false", err)
	}
	want := Error{File: "testdata/bad/three-errors/tend.toml", Line: 1, Key: "interval",
		Msg: `invalid duration "30 seconds": want a number and a unit, such as "30s", "1m30s", "500ms" or "14d"`}
	if *first != want {
		t.Errorf("first error = %+v, want %+v", *first, want)
	}
	if got := strings.Count(err.Error(), "\n"); got != 2 {
		t.Errorf("Errors.Error() has %d line breaks, want 2: %q", got, err.Error())
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  Error
		want string
	}{
		{name: "full", err: Error{File: "a.toml", Line: 3, Key: "interval", Msg: "bad"}, want: "a.toml:3: interval: bad"},
		{name: "no key", err: Error{File: "a.toml", Line: 3, Msg: "invalid TOML"}, want: "a.toml:3: invalid TOML"},
		{name: "no line", err: Error{File: "a.toml", Msg: "cannot read"}, want: "a.toml: cannot read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
