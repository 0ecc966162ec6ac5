// Package confd contains the example drop-ins shipped in this directory, one per service
// of a Debian host that runs a Rails app. This test loads them all through a main
// file with config.Load, the loader of `tend run` and `tend validate`, so a drop-in
// that the loader rejects fails `go test ./conf.d/`.
package confd

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"tend/config"
)

// copyDropIns copies every *.toml file of this directory into a new conf.d beside
// a main file that includes it, and returns the main file and the copied names. The
// copies are written with mode 0644 in a directory of the test, so the loader's owner
// and mode check for root does not depend on how the checkout was made.
func copyDropIns(t *testing.T) (string, []string) {
	t.Helper()
	names, err := filepath.Glob("*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("glob *.toml in conf.d = %v, %v; want the shipped drop-ins", names, err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "conf.d", name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	main := filepath.Join(dir, "tend.toml")
	text := "state_dir = \"state\"\ninclude = [\"conf.d/*.toml\"]\n\n[control]\nsocket = \"tend.sock\"\n"
	if err := os.WriteFile(main, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return main, names
}

func loadDropIns(t *testing.T) map[string]config.Service {
	t.Helper()
	main, _ := copyDropIns(t)
	cfg, err := config.Load(main)
	if err != nil {
		t.Fatalf("config.Load of the shipped drop-ins: %v", err)
	}
	services := map[string]config.Service{}
	for _, s := range cfg.Services {
		services[s.Name] = s
	}
	return services
}

func TestDropInsLoad(t *testing.T) {
	main, names := copyDropIns(t)
	cfg, err := config.Load(main)
	if err != nil {
		t.Fatalf("config.Load(%s) with %v: %v", main, names, err)
	}

	// Each file declares the service it is named after.
	var files, got []string
	for _, s := range cfg.Services {
		files = append(files, filepath.Base(s.Pos.File))
		got = append(got, s.Name)
	}
	want := []string{"caddy", "host", "postgresql", "procodile", "puma", "redis", "sidekiq"}
	if !slices.Equal(got, want) {
		t.Errorf("services = %v, want %v", got, want)
	}
	for i, name := range got {
		if i < len(files) && files[i] != name+".toml" {
			t.Errorf("service %s is declared in %s, want %s.toml", name, files[i], name)
		}
	}
	if len(names) != len(want) {
		t.Errorf("conf.d has %d drop-ins %v, want %d", len(names), names, len(want))
	}
}

func TestDropInKinds(t *testing.T) {
	services := loadDropIns(t)
	tests := []struct {
		name    string
		owned   bool
		pidfile bool
		match   bool
		start   bool
	}{
		{name: "postgresql", pidfile: true, start: true},
		{name: "redis", pidfile: true, start: true},
		{name: "procodile", pidfile: true, start: true},
		{name: "caddy", match: true, start: true},
		{name: "sidekiq", owned: true},
		{name: "puma", owned: true},
		{name: "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := services[tt.name]
			if !ok {
				t.Fatalf("no service %s", tt.name)
			}
			if s.Owned() != tt.owned {
				t.Errorf("Owned() = %v, want %v", s.Owned(), tt.owned)
			}
			if (s.Pidfile != "") != tt.pidfile {
				t.Errorf("pidfile = %q, want set: %v", s.Pidfile, tt.pidfile)
			}
			if (s.Match != nil) != tt.match {
				t.Errorf("match = %v, want set: %v", s.Match, tt.match)
			}
			if (len(s.Start) > 0) != tt.start {
				t.Errorf("start = %q, want set: %v", s.Start, tt.start)
			}
		})
	}
}

func TestDropInDependencies(t *testing.T) {
	services := loadDropIns(t)
	for _, name := range []string{"sidekiq", "puma", "procodile"} {
		got := services[name].DependsOn
		if !slices.Contains(got, "redis") || !slices.Contains(got, "postgresql") {
			t.Errorf("%s depends_on = %v, want redis and postgresql", name, got)
		}
	}
}

// Sidekiq 6 sends WATCHDOG=1 every half of WATCHDOG_USEC and fails to start when that
// is below one second, so the shipped watchdog must be at least that long.
func TestSidekiqNotifyAndWatchdog(t *testing.T) {
	s := loadDropIns(t)["sidekiq"]
	if !s.Notify {
		t.Errorf("sidekiq notify = false, want true")
	}
	if s.Watchdog.D().Seconds() < 1 {
		t.Errorf("sidekiq watchdog = %s, want at least 1s", s.Watchdog)
	}
	if s.StopTimeout.D().Seconds() <= 25 {
		t.Errorf("sidekiq stop_timeout = %s, want more than its --timeout of 25 s", s.StopTimeout)
	}
}

// Each check type the stack relies on is present in the drop-in whose comments describe it.
func TestDropInChecks(t *testing.T) {
	services := loadDropIns(t)
	tests := []struct {
		service string
		types   []config.CheckType
	}{
		{"postgresql", []config.CheckType{config.CheckProcess, config.CheckPostgres, config.CheckTotalMemory}},
		{"redis", []config.CheckType{config.CheckProcess, config.CheckRedis, config.CheckCPU, config.CheckTotalMemory}},
		{"sidekiq", []config.CheckType{config.CheckProcess, config.CheckMemory}},
		{"puma", []config.CheckType{config.CheckProcess, config.CheckHTTP}},
		{"caddy", []config.CheckType{config.CheckProcess, config.CheckTCP, config.CheckCPU}},
		{"host", []config.CheckType{config.CheckLoad, config.CheckHostCPU, config.CheckHostMemory,
			config.CheckSwap, config.CheckFilesystem, config.CheckInodes}},
	}
	for _, tt := range tests {
		var got []config.CheckType
		for _, c := range services[tt.service].Checks {
			got = append(got, c.Type)
		}
		for _, want := range tt.types {
			if !slices.Contains(got, want) {
				t.Errorf("%s checks = %v, want one of type %s", tt.service, got, want)
			}
		}
	}
	var postgresProbes int
	for _, c := range services["postgresql"].Checks {
		if c.Type == config.CheckPostgres {
			postgresProbes++
		}
	}
	if postgresProbes != 2 {
		t.Errorf("postgresql has %d postgres checks, want 2 (TCP and unix socket)", postgresProbes)
	}
}
