package config

import (
	"reflect"
	"regexp"
	"slices"
	"syscall"
	"testing"
	"text/template"
	"time"
)

func TestServiceChanges(t *testing.T) {
	base := func() Service {
		s := newService(Position{File: "a.toml", Line: 1})
		s.Name = "redis"
		s.Command = []string{"redis-server", "--port", "0"}
		s.Environment = map[string]string{"A": "1"}
		s.Match = nil
		s.Checks = []Check{ruleAt(CheckProcess, Position{File: "a.toml", Line: 1}, 1, ActionRestart)}
		return s
	}
	tests := []struct {
		name   string
		change func(*Service)
		want   []string
	}{
		{"same", func(*Service) {}, nil},
		{"moved lines", func(s *Service) {
			s.Pos.Line = 9
			s.Checks[0].Pos.Line = 12
		}, nil},
		{"command", func(s *Service) { s.Command[2] = "6379" }, []string{"command"}},
		{"environment value", func(s *Service) { s.Environment = map[string]string{"A": "2"} }, []string{"environment"}},
		{"environment key", func(s *Service) { s.Environment = map[string]string{"B": "1"} }, []string{"environment"}},
		{"stop signal and timeout", func(s *Service) {
			s.StopSignal = Signal(syscall.SIGINT)
			s.StopTimeout = Duration(time.Minute)
		}, []string{"stop_signal", "stop_timeout"}},
		{"restart limit", func(s *Service) { s.RestartLimit.Cycles = 9 }, []string{"restart_limit"}},
		{"check threshold", func(s *Service) { s.Checks[0].ForCycles = 3 }, []string{"check"}},
		{"check added", func(s *Service) { s.Checks = append(s.Checks, newCheck(Position{})) }, []string{"check"}},
		{"match", func(s *Service) { s.Match = regexp.MustCompile("redis") }, []string{"match"}},
		{"user and group", func(s *Service) { s.User, s.Group = "redis", "redis" }, []string{"user", "group"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			updated := base()
			// A fresh copy of every slice and map, so that the change touches only updated.
			updated.Command = slices.Clone(updated.Command)
			tt.change(&updated)
			if got := ServiceChanges(base(), updated); !slices.Equal(got, tt.want) {
				t.Errorf("ServiceChanges = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServiceChangesComparesPatterns(t *testing.T) {
	a, b := newService(Position{}), newService(Position{})
	a.Match, b.Match = regexp.MustCompile("^redis"), regexp.MustCompile("^redis")
	if got := ServiceChanges(a, b); got != nil {
		t.Errorf("ServiceChanges of two compilations of one pattern = %q, want none", got)
	}
	b.Match = regexp.MustCompile("^valkey")
	if got := ServiceChanges(a, b); !slices.Equal(got, []string{"match"}) {
		t.Errorf("ServiceChanges of two patterns = %q, want [match]", got)
	}
}

func TestServiceChangesNamesEveryField(t *testing.T) {
	typ := reflect.TypeFor[Service]()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if name == "Name" || name == "Pos" {
			continue
		}
		if _, ok := serviceKeys[name]; !ok {
			t.Errorf("Service.%s has no key in serviceKeys; ServiceChanges calls it %q", name, snakeCase(name))
		}
	}
}

func TestSettingChanges(t *testing.T) {
	base := func() *Config {
		return &Config{
			Path: "tend.toml", Interval: Duration(time.Second), StateDir: "/var/lib/tend",
			Hostname: "a", Alerts: defaultAlerts(), Control: Control{Socket: "/run/tend/tend.sock"},
		}
	}
	tests := []struct {
		name   string
		change func(*Config)
		want   []string
	}{
		{"same", func(*Config) {}, nil},
		{"services only", func(c *Config) { c.Services = []Service{newService(Position{})} }, nil},
		{"interval", func(c *Config) { c.Interval = Duration(time.Minute) }, []string{"interval"}},
		{"state dir", func(c *Config) { c.StateDir = "/srv/tend" }, []string{"state_dir"}},
		{"mail", func(c *Config) { c.Mail = &Mail{From: "tend@example.org"} }, []string{"mail"}},
		{"reminder", func(c *Config) { c.Alerts.Reminder = Duration(time.Hour) }, []string{"alerts.reminder"}},
		{"subject", func(c *Config) {
			c.Alerts.Subject = template.Must(template.New("subject").Parse("{{.Service}}"))
		}, []string{"alerts.subject"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			updated := base()
			tt.change(updated)
			if got := SettingChanges(base(), updated); !slices.Equal(got, tt.want) {
				t.Errorf("SettingChanges = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSettingChangesSameTemplateText(t *testing.T) {
	a, b := &Config{}, &Config{}
	a.Alerts.Subject = template.Must(template.New("subject").Parse("{{.Service}} failed"))
	b.Alerts.Subject = template.Must(template.New("subject").Parse("{{.Service}} failed"))
	if got := SettingChanges(a, b); got != nil {
		t.Errorf("SettingChanges of two parses of one template = %q, want none", got)
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"MaxPerHour": "max_per_hour", "HTTP": "http", "StateDir": "state_dir", "Alerts": "alerts",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
