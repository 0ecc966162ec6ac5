package config

import (
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestLoadServiceKeys(t *testing.T) {
	dir := writeFiles(t, map[string]string{"tend.toml": `
[[service]]
name = "caddy"
match = "^/usr/bin/caddy run"
match_pick = "newest"
start = ["/usr/bin/systemctl", "start", "caddy"]

[[service]]
name = "sidekiq"
command = ["bundle", "exec", "sidekiq"]
user = "deploy"
group = "www-data"
environment_file = "app.env"
inherit_environment = true
log_file = "log/sidekiq.log"
log_max_size = "1MB"
log_max_files = 3
depends_on = ["caddy"]
notify = true
watchdog = "10s"
watchdog_action = "alert"
restart_delay = "2s"
restart_delay_max = "30s"
stable_after = "1m"
`})
	cfg, err := Load(filepath.Join(dir, "tend.toml"))
	if err != nil {
		t.Fatal(err)
	}
	caddy, sidekiq := cfg.Services[0], cfg.Services[1]
	if caddy.Match == nil || caddy.Match.String() != "^/usr/bin/caddy run" || !caddy.MatchNewest {
		t.Errorf("caddy: Match %v, MatchNewest %v", caddy.Match, caddy.MatchNewest)
	}
	if !caddy.HasProcess() || caddy.Owned() {
		t.Errorf("caddy: HasProcess %v, Owned %v; want an external service", caddy.HasProcess(), caddy.Owned())
	}
	if caddy.Checks[0].Type != CheckProcess || caddy.Checks[0].Action != ActionRestart {
		t.Errorf("caddy: implicit check %v %v, want process with restart", caddy.Checks[0].Type, caddy.Checks[0].Action)
	}

	want := []struct {
		name      string
		got, want any
	}{
		{"User", sidekiq.User, "deploy"},
		{"Group", sidekiq.Group, "www-data"},
		{"EnvironmentFiles", sidekiq.EnvironmentFiles, []string{filepath.Join(dir, "app.env")}},
		{"InheritEnvironment", sidekiq.InheritEnvironment, true},
		{"LogFile", sidekiq.LogFile, filepath.Join(dir, "log/sidekiq.log")},
		{"LogMaxSize", sidekiq.LogMaxSize, uint64(1 << 20)},
		{"LogMaxFiles", sidekiq.LogMaxFiles, 3},
		{"DependsOn", sidekiq.DependsOn, []string{"caddy"}},
		{"Notify", sidekiq.Notify, true},
		{"Watchdog", sidekiq.Watchdog.D(), 10 * time.Second},
		{"WatchdogAction", sidekiq.WatchdogAction, ActionAlert},
		{"RestartDelay", sidekiq.RestartDelay.D(), 2 * time.Second},
		{"RestartDelayMax", sidekiq.RestartDelayMax.D(), 30 * time.Second},
		{"StableAfter", sidekiq.StableAfter.D(), time.Minute},
	}
	for _, w := range want {
		if s1, ok := w.want.([]string); ok {
			if !slices.Equal(w.got.([]string), s1) {
				t.Errorf("sidekiq %s = %v, want %v", w.name, w.got, w.want)
			}
			continue
		}
		if w.got != w.want {
			t.Errorf("sidekiq %s = %v, want %v", w.name, w.got, w.want)
		}
	}
}
