// Package packaging contains the files that install tend: the systemd unit, the default
// tend.toml, the nfpm definition of the Debian package with its maintainer scripts,
// and the Prometheus rules and Grafana dashboard. It has no Go code, only these tests.
//
// The tests run the real tools: systemd-analyze (Debian package systemd), promtool
// (prometheus), make and config.Load. A missing tool skips its test, or fails it when
// CI=true. TestDebInstallRemove installs the built package into this machine with dpkg
// and removes it again, so it runs only as root and with CI=true or TEND_TEST_DPKG=1:
//
//	sudo TEND_TEST_DPKG=1 go test -run TestDebInstallRemove ./packaging/
package packaging

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"tend/config"
	"tend/internal/testenv"
)

// repoRoot is the repository's root, relative to this package's directory.
const repoRoot = ".."

// run runs a command in dir and returns its combined output. It fails the test when the
// command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(testenv.Context(t, 10*time.Minute), name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildTend builds the tend binary into a temporary directory and returns its path.
func buildTend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tend")
	run(t, repoRoot, nil, "go", "build", "-o", bin, "./cmd/tend")
	return bin
}

// unitSettings parses a unit file into "Section.Key" and its values in order.
func unitSettings(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = strings.Trim(line, "[]")
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: line %q is neither a section, a comment nor key=value", path, line)
			}
			settings[section+"."+key] = append(settings[section+"."+key], value)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return settings
}

func TestUnitVerify(t *testing.T) {
	analyze := testenv.LookPath(t, "systemd-analyze", "apt-get install systemd")
	bin := buildTend(t)

	// systemd-analyze verify requires ExecStart's program to exist.
	data, err := os.ReadFile("tend.service")
	if err != nil {
		t.Fatal(err)
	}
	const execStart = "ExecStart=/usr/bin/tend "
	if !strings.Contains(string(data), execStart) {
		t.Fatalf("tend.service has no line starting with %q", execStart)
	}
	unit := filepath.Join(t.TempDir(), "tend.service")
	text := strings.Replace(string(data), execStart, "ExecStart="+bin+" ", 1)
	if err := os.WriteFile(unit, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	// verify exits 0 on unknown keys and invalid values and only prints them, so any
	// output is a failure.
	out, err := exec.CommandContext(testenv.Context(t, time.Minute), analyze, "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: err %v, output:\n%s", unit, err, out)
	}
}

func TestUnitSettings(t *testing.T) {
	settings := unitSettings(t, "tend.service")
	want := map[string]string{
		"Service.Type":               "notify",
		"Service.NotifyAccess":       "main",
		"Service.ExecStart":          "/usr/bin/tend run --config /etc/tend/tend.toml",
		"Service.ExecReload":         "/bin/kill -HUP $MAINPID",
		"Service.WatchdogSec":        "30s",
		"Service.Restart":            "on-failure",
		"Service.KillMode":           "process",
		"Service.OOMPolicy":          "continue",
		"Service.TasksMax":           "infinity",
		"Service.RuntimeDirectory":   "tend",
		"Service.StateDirectory":     "tend",
		"Service.TimeoutStopSec":     "90s",
		"Install.WantedBy":           "multi-user.target",
		"Service.StateDirectoryMode": "0755",
	}
	for key, value := range want {
		if got := settings[key]; !slices.Equal(got, []string{value}) {
			t.Errorf("tend.service %s = %q, want %q", key, got, value)
		}
	}

	// Every supervised service would inherit these.
	for _, key := range []string{"User", "Group", "DynamicUser", "NoNewPrivileges", "PrivateTmp",
		"PrivateDevices", "PrivateNetwork", "ProtectSystem", "ProtectHome", "ProtectProc",
		"CapabilityBoundingSet", "SystemCallFilter", "MemoryMax", "CPUQuota"} {
		if got, ok := settings["Service."+key]; ok {
			t.Errorf("tend.service sets %s=%q, which every supervised service would inherit", key, got)
		}
	}
}

func TestDefaultConfigLoads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tend.toml")
	copyFile(t, "tend.toml", path)

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load(tend.toml): %v", err)
	}

	// The file shows every default, so it loads to the same values as an empty file.
	checks := []struct {
		name      string
		got, want any
	}{
		{"interval", cfg.Interval.D(), config.DefaultInterval},
		{"state_dir", cfg.StateDir, config.DefaultStateDir},
		{"include", cfg.Include, []string{filepath.Join(dir, "conf.d/*.toml")}},
		{"control.socket", cfg.Control.Socket, config.DefaultControlSocket},
		{"control.group", cfg.Control.GroupName(), config.DefaultControlGroup},
		{"alerts.digest_window", cfg.Alerts.DigestWindow.D(), config.DefaultDigestWindow},
		{"alerts.max_per_hour", cfg.Alerts.MaxPerHour, config.DefaultMaxPerHour},
		{"alerts.queue_limit", cfg.Alerts.QueueLimit, config.DefaultQueueLimit},
		{"alerts.reminder", cfg.Alerts.Reminder.D(), time.Duration(0)},
		{"mail is absent", cfg.Mail == nil, true},
		{"http is absent", cfg.HTTP == nil, true},
		{"no services", len(cfg.Services), 0},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("tend.toml %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// commentedKey matches a commented TOML table header or key = value line.
var commentedKey = regexp.MustCompile(`^# (\[\[?[a-z.]+\]\]?\n|[a-z_]+ = )`)

// The commented examples in tend.toml are valid once uncommented.
func TestDefaultConfigExamplesLoad(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("tend.toml")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line := range strings.Lines(string(data)) {
		if commentedKey.MatchString(line) {
			line = strings.TrimPrefix(line, "# ")
		}
		lines = append(lines, line)
	}
	text := strings.ReplaceAll(strings.Join(lines, ""), "/etc/tend/", dir+"/")
	path := filepath.Join(dir, "tend.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "prometheus.hash"), string(hash))
	writeFile(t, filepath.Join(dir, "alert-body.tmpl"), "{{.Summary}}\n")
	t.Setenv("TEND_SMTP_PASSWORD", "secret")
	// Loading only parses the URL; nothing is sent.
	t.Setenv("TEND_SLACK_URL", "http://127.0.0.1:9/hook")

	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load(tend.toml with the examples uncommented): %v\n%s", err, text)
	}
	if cfg.Hostname != "web1.example.com" {
		t.Errorf("hostname = %q, want web1.example.com", cfg.Hostname)
	}
	if cfg.Mail == nil || len(cfg.Mail.Servers) != 1 || cfg.Mail.Servers[0].Host != "smtp.example.com" {
		t.Errorf("mail = %+v, want one server smtp.example.com", cfg.Mail)
	}
	if len(cfg.Alerts.Routes) != 1 {
		t.Errorf("alerts.route: %d routes, want 1", len(cfg.Alerts.Routes))
	}
	if cfg.Alerts.Reminder.D() != 4*time.Hour {
		t.Errorf("alerts.reminder = %s, want 4h", cfg.Alerts.Reminder)
	}
	if cfg.Alerts.Subject == nil || cfg.Alerts.Body == nil {
		t.Errorf("alerts.subject and alerts.body_file: templates %v and %v, want both set",
			cfg.Alerts.Subject, cfg.Alerts.Body)
	}
	if cfg.HTTP == nil || cfg.HTTP.Listen != config.DefaultHTTPListen || len(cfg.HTTP.Users) != 1 {
		t.Errorf("http = %+v, want listen %s with one user", cfg.HTTP, config.DefaultHTTPListen)
	}
}

func TestRulesCheck(t *testing.T) {
	promtool := testenv.LookPath(t, "promtool", "apt-get install --no-install-recommends prometheus")
	out := run(t, "prometheus", nil, promtool, "check", "rules", "tend.rules.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool check rules: no SUCCESS in:\n%s", out)
	}
	// The unit tests fire each alert on made-up series and check its labels and text.
	out = run(t, "prometheus", nil, promtool, "test", "rules", "tend.rules.test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules: no SUCCESS in:\n%s", out)
	}
}

// metricName matches the names of tend's metrics in source code and in PromQL.
var metricName = regexp.MustCompile(`tend_[a-z0-9_]+`)

// knownMetrics returns the metric names that tend's /metrics serves, read from the
// source of its collector, with the series names of the histogram.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "supervisor", "web", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`"(tend_[a-z0-9_]+)"`).FindAllStringSubmatch(string(data), -1) {
		known[m[1]] = true
		if strings.HasSuffix(m[1], "_seconds") && strings.Contains(m[1], "duration") {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				known[m[1]+suffix] = true
			}
		}
	}
	if len(known) < 10 {
		t.Fatalf("found only %d metric names in supervisor/web/metrics.go: %v", len(known), known)
	}
	return known
}

// checkNames reports the tend_ names in text that tend does not serve, and returns how
// many names text contains.
func checkNames(t *testing.T, where, text string, known map[string]bool) int {
	t.Helper()
	names := metricName.FindAllString(text, -1)
	for _, name := range names {
		if !known[name] {
			t.Errorf("%s: %s is not a metric of tend", where, name)
		}
	}
	return len(names)
}

func TestRulesMetricNames(t *testing.T) {
	known := knownMetrics(t)
	for _, file := range []string{"tend.rules.yml", "tend.rules.test.yml"} {
		data, err := os.ReadFile(filepath.Join("prometheus", file))
		if err != nil {
			t.Fatal(err)
		}
		if checkNames(t, file, string(data), known) == 0 {
			t.Errorf("%s names no metric of tend", file)
		}
	}
}

// dashboard is the part of a Grafana dashboard that the test reads.
type dashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID      int    `json:"id"`
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func TestDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("prometheus", "tend.dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("parse tend.dashboard.json: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("dashboard title %q, uid %q: want both set", d.Title, d.UID)
	}
	if len(d.Panels) == 0 {
		t.Fatal("dashboard has no panels")
	}

	known := knownMetrics(t)
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel %q: duplicate id %d", p.Title, p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			where := "panel " + p.Title
			if checkNames(t, where, target.Expr, known) == 0 {
				t.Errorf("%s: expression %q names no metric of tend", where, target.Expr)
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: parse query: %v", v.Name, err)
		}
		where := "variable " + v.Name
		if checkNames(t, where, q.Query, known) == 0 {
			t.Errorf("%s: query %q names no metric of tend", where, q.Query)
		}
	}
}

func TestMakeInstall(t *testing.T) {
	testenv.LookPath(t, "make", "apt-get install make")
	dest := t.TempDir()
	run(t, repoRoot, nil, "make", "install", "DESTDIR="+dest, "PREFIX=/usr")

	checkMode(t, filepath.Join(dest, "usr/bin/tend"), 0o755)
	checkMode(t, filepath.Join(dest, "usr/lib/systemd/system/tend.service"), 0o644)
	checkMode(t, filepath.Join(dest, "etc/tend/tend.toml"), 0o644)
	checkMode(t, filepath.Join(dest, "etc/tend/conf.d"), os.ModeDir|0o755)
	checkMode(t, filepath.Join(dest, "usr/share/tend/prometheus/tend.rules.yml"), 0o644)
	checkMode(t, filepath.Join(dest, "usr/share/tend/grafana/tend.dashboard.json"), 0o644)
	checkSame(t, filepath.Join(dest, "etc/tend/tend.toml"), "tend.toml")
	unit := unitSettings(t, filepath.Join(dest, "usr/lib/systemd/system/tend.service"))
	if got := unit["Service.ExecStart"]; !slices.Equal(got, []string{"/usr/bin/tend run --config /etc/tend/tend.toml"}) {
		t.Errorf("installed unit: ExecStart = %q", got)
	}

	// A second install keeps the operator's tend.toml and follows PREFIX and SYSCONFDIR.
	edited := "# edited by the operator\n"
	writeFile(t, filepath.Join(dest, "etc/tend/tend.toml"), edited)
	run(t, repoRoot, nil, "make", "install", "DESTDIR="+dest, "PREFIX=/usr/local")
	if got := readFile(t, filepath.Join(dest, "etc/tend/tend.toml")); got != edited {
		t.Errorf("make install replaced an existing tend.toml; it contains %q", got)
	}
	unit = unitSettings(t, filepath.Join(dest, "usr/local/lib/systemd/system/tend.service"))
	if got := unit["Service.ExecStart"]; !slices.Equal(got, []string{"/usr/local/bin/tend run --config /etc/tend/tend.toml"}) {
		t.Errorf("unit installed with PREFIX=/usr/local: ExecStart = %q", got)
	}
	checkMode(t, filepath.Join(dest, "usr/local/bin/tend"), 0o755)
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("stat: %v", err)
		return
	}
	if got := fi.Mode() & (os.ModeType | os.ModePerm); got != want {
		t.Errorf("%s: mode %s, want %s", path, got, want)
	}
}

func checkSame(t *testing.T, path, source string) {
	t.Helper()
	if readFile(t, path) != readFile(t, source) {
		t.Errorf("%s differs from %s", path, source)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	writeFile(t, to, readFile(t, from))
}
