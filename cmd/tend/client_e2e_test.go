package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tend/internal/testenv"
	"tend/supervisor/api"
)

// clientSleep is the argument of the owned services' sleep, unusual enough that
// procmatch finds only them.
const clientSleep = "6013"

// startClientDaemon runs `tend run` with the control socket in a temporary directory
// and three services: redis (group cache) and worker (group app), which run sleep,
// and ext, a pidfile service without a start program. It returns the main file.
func startClientDaemon(t *testing.T) string {
	t.Helper()
	dir := testenv.SocketDir(t)
	cfg := filepath.Join(dir, "tend.toml")
	mustWrite(t, cfg, fmt.Sprintf(`interval = "1s"
state_dir = "state"

[control]
socket = "tend.sock"

[[service]]
name = "redis"
command = ["sleep", %[1]q]
groups = ["cache"]

[[service]]
name = "worker"
command = ["sleep", %[1]q]
groups = ["app"]

[[service]]
name = "ext"
pidfile = %[2]q
`, clientSleep, filepath.Join(dir, "ext.pid")))
	startTend(t, cfg)
	return cfg
}

// runCLI runs the tend binary with args and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(testenv.Context(t, time.Minute), tendBinary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = 0
	if exitErr, ok := errors.AsType[*exec.ExitError](err); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run tend %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errOut.String(), code
}

// expectCode runs the tend binary and fails the test unless it exits with want.
func expectCode(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	if code != want {
		t.Errorf("tend %s: exit code %d, want %d\nstdout:\n%s\nstderr:\n%s",
			strings.Join(args, " "), code, want, stdout, stderr)
	}
	return stdout, stderr
}

// waitState waits until `tend status NAME` exits with code.
func waitState(t *testing.T, cfg, name string, code int) {
	t.Helper()
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		_, _, got := runCLI(t, "status", "-config", cfg, name)
		return got == code
	})
	if !ok {
		t.Fatalf("tend status %s did not exit with %d", name, code)
	}
}

func TestClientStatusAndSummary(t *testing.T) {
	cfg := startClientDaemon(t)
	waitState(t, cfg, "redis", 0)
	// From the second cycle on, every check has a result and redis a CPU figure.
	var out string
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		out, _, _ = runCLI(t, "status", "-config", cfg)
		return !strings.Contains(out, "pending") && strings.Contains(out, "%")
	})

	for _, want := range []string{"SERVICE  STATE", "PID", "UPTIME", "CPU", "MEMORY", "ok       process",
		"FAILING  process", "alerts: 0 queued"} {
		if !strings.Contains(out, want) {
			t.Errorf("tend status: output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "redis    running") {
		t.Errorf("tend status: redis is not shown running in columns:\n%s", out)
	}

	out, _ = expectCode(t, 0, "status", "--json", "-config", cfg)
	if !strings.Contains(out, `"cpu_percent"`) || !strings.Contains(out, `"queue_depth"`) {
		t.Errorf("tend status --json: output lacks cpu_percent or queue_depth:\n%s", out)
	}
	var report statusReport
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("tend status --json: %v\n%s", err, out)
	}
	if len(report.Services) != 3 || report.Services[0].Name != "redis" || report.Daemon.PID == 0 {
		t.Errorf("tend status --json = %+v, want 3 services and the daemon's PID", report)
	}

	out, _ = expectCode(t, 0, "summary", "-config", cfg)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "redis   running (PID ") || !strings.HasPrefix(lines[2], "ext     failed") {
		t.Errorf("tend summary: want one line per service:\n%s", out)
	}
	out, _ = expectCode(t, 0, "summary", "-config", cfg, "--json")
	var list []api.ServiceView
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Errorf("tend summary --json: %v, %d services, want 3\n%s", err, len(list), out)
	}
}

func TestClientStatusExitCodes(t *testing.T) {
	cfg := startClientDaemon(t)
	waitState(t, cfg, "redis", 0)

	expectCode(t, 0, "status", "-config", cfg, "redis", "worker")
	// ext exists but has no process.
	expectCode(t, 1, "status", "-config", cfg, "redis", "ext")
	_, errOut := expectCode(t, 4, "status", "-config", cfg, "redsi")
	if want := "tend status: no service named 'redsi'; did you mean 'redis'?\n"; errOut != want {
		t.Errorf("tend status redsi: stderr %q, want %q", errOut, want)
	}
	// The unknown name decides the code, and the known one is still printed.
	out, _ := expectCode(t, 4, "status", "-config", cfg, "ext", "nosuch")
	if !strings.Contains(out, "ext") {
		t.Errorf("tend status ext nosuch: output lacks ext:\n%s", out)
	}
}

func TestClientControlVerbs(t *testing.T) {
	cfg := startClientDaemon(t)
	waitState(t, cfg, "redis", 0)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	by := fmt.Sprintf("uid %d (%s)", os.Getuid(), u.Username)

	out, _ := expectCode(t, 0, "restart", "-config", cfg, "redis")
	if out != "redis: restart accepted\n" {
		t.Errorf("tend restart redis: output %q, want %q", out, "redis: restart accepted\n")
	}
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		out, _, _ = runCLI(t, "history", "-config", cfg, "redis")
		return strings.Contains(out, "restart requested by "+by)
	})
	if !ok {
		t.Errorf("tend history redis: no restart requested by %s:\n%s", by, out)
	}
	out, _ = expectCode(t, 0, "history", "--json", "-config", cfg, "redis")
	var hist api.HistoryView
	if err := json.Unmarshal([]byte(out), &hist); err != nil || len(hist.Restarts) != 1 {
		t.Errorf("tend history --json: %v, %+v, want one restart", err, hist)
	}
	out, _ = expectCode(t, 0, "history", "-config", cfg, "worker")
	if out != "worker: no restarts\n" {
		t.Errorf("tend history worker: output %q, want %q", out, "worker: no restarts\n")
	}

	// A stop by group holds redis until a start.
	expectCode(t, 0, "stop", "-config", cfg, "cache")
	// The stop runs after the command returns: redis is stopping, then stopped.
	want := "redis   stopped (held by an operator, stop requested by " + by + ")"
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		out, _, _ = runCLI(t, "summary", "-config", cfg)
		return strings.Contains(out, want)
	}) {
		t.Errorf("tend summary after stop: redis not stopped and held:\n%s", out)
	}
	expectCode(t, 0, "start", "cache", "-config", cfg)
	waitState(t, cfg, "redis", 0)

	expectCode(t, 0, "unmonitor", "-config", cfg, "app")
	waitState(t, cfg, "worker", 1)
	expectCode(t, 0, "monitor", "-config", cfg, "app")
	waitState(t, cfg, "worker", 0)

	// ext has no start program: the daemon rejects its share of "all".
	out, errOut := expectCode(t, 1, "start", "-config", cfg, "all")
	if !strings.Contains(out, "redis: start accepted") || !strings.Contains(errOut, "ext: start rejected: ext has no start program") {
		t.Errorf("tend start all: stdout\n%s\nstderr\n%s\nwant redis accepted and ext rejected", out, errOut)
	}
	_, errOut = expectCode(t, 4, "restart", "-config", cfg, "cahce")
	if want := "tend restart: no service or group named 'cahce'; did you mean 'cache'?\n"; errOut != want {
		t.Errorf("tend restart cahce: stderr %q, want %q", errOut, want)
	}
}

func TestClientProcMatch(t *testing.T) {
	cfg := startClientDaemon(t)
	waitState(t, cfg, "worker", 0)
	pattern := "^sleep " + clientSleep + "$"

	out, _ := expectCode(t, 0, "procmatch", "-config", cfg, pattern)
	if !strings.Contains(out, "2 processes match") || strings.Count(out, "  sleep "+clientSleep+"\n") != 2 {
		t.Errorf("tend procmatch: want the two sleeps:\n%s", out)
	}
	out, _ = expectCode(t, 0, "procmatch", "-config", cfg, "--json", "-pick", "newest", pattern)
	var m api.ProcMatchView
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("tend procmatch --json: %v\n%s", err, out)
	}
	if m.Count != 2 || m.Pick != "newest" || m.Winner != m.Processes[1].PID {
		t.Errorf("tend procmatch -pick newest = %+v, want 2 processes and the second one winning", m)
	}
	// The client's own command line contains the pattern, and is left out.
	out, _ = expectCode(t, 0, "procmatch", "-config", cfg, "procmatch -config")
	if !strings.Contains(out, "no process matches") {
		t.Errorf("tend procmatch on its own command line: want no match:\n%s", out)
	}
	_, errOut := expectCode(t, 2, "procmatch", "-config", cfg, "sleep (")
	if !strings.Contains(errOut, "invalid pattern") {
		t.Errorf("tend procmatch with an invalid pattern: stderr %q, want invalid pattern", errOut)
	}
}

func TestClientReload(t *testing.T) {
	cfg := startClientDaemon(t)

	out, errOut, code := runCLI(t, "reload", "--dry-run", "-config", cfg)
	if code == 1 && strings.Contains(errOut, "not built yet") {
		t.Skip("tend reload: the reloader of this build is a stub that rejects every reload")
	}
	if code != 0 {
		t.Fatalf("tend reload --dry-run: exit code %d, want 0; stderr %s", code, errOut)
	}
	for _, want := range []string{"dry run: nothing was changed", "unchanged: redis, worker, ext"} {
		if !strings.Contains(out, want) {
			t.Errorf("tend reload --dry-run: output lacks %q:\n%s", want, out)
		}
	}
}

func TestClientUsageErrors(t *testing.T) {
	tests := [][]string{
		{"restart"},
		{"restart", "a", "b"},
		{"history"},
		{"status", "--bogus"},
		{"summary", "extra"},
		{"reload", "now"},
		{"procmatch"},
	}
	for _, args := range tests {
		_, errOut := expectCode(t, 2, args...)
		if errOut == "" {
			t.Errorf("tend %s: nothing on stderr", strings.Join(args, " "))
		}
	}
}

func TestClientDaemonDown(t *testing.T) {
	socket := filepath.Join(testenv.SocketDir(t), "tend.sock")
	for _, verb := range []string{"status", "summary", "restart redis", "reload", "history redis", "procmatch x"} {
		args := append(strings.Fields(verb), "-socket", socket)
		_, errOut := expectCode(t, 3, args...)
		want := fmt.Sprintf("tend %s: cannot reach tend at %s: is the daemon running? (dial unix %s: connect: no such file or directory)\n",
			strings.Fields(verb)[0], socket, socket)
		if errOut != want {
			t.Errorf("tend %s: stderr %q, want %q", verb, errOut, want)
		}
	}
}

// The socket comes from the [control] table of -config when -socket is absent, and
// a -config that does not load leaves the default.
func TestClientSocketFromConfig(t *testing.T) {
	dir := testenv.SocketDir(t)
	cfg := filepath.Join(dir, "tend.toml")
	mustWrite(t, cfg, "[control]\nsocket = \"ctl/tend.sock\"\n")

	_, errOut := expectCode(t, 3, "status", "-config", cfg)
	if want := filepath.Join(dir, "ctl", "tend.sock"); !strings.Contains(errOut, "cannot reach tend at "+want+":") {
		t.Errorf("tend status -config: stderr %q, want the socket %s", errOut, want)
	}
	_, errOut = expectCode(t, 3, "status", "-config", filepath.Join(dir, "missing.toml"), "-socket", filepath.Join(dir, "x.sock"))
	if !strings.Contains(errOut, filepath.Join(dir, "x.sock")) {
		t.Errorf("tend status -socket: stderr %q, want the -socket path", errOut)
	}
}

func TestPrintStatusWarnings(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	at := now.Add(-5 * time.Minute)
	var out bytes.Buffer
	printStatus(&out, nil, api.DaemonView{
		ConfigError: "conf.d/redis.toml:4: unknown key",
		Alerts:      api.AlertsView{QueueDepth: 2, LastError: "dial tcp: connection refused", LastErrorAt: &at},
	}, now)
	for _, want := range []string{
		"alerts: 2 queued; last delivery error 5m0s ago: dial tcp: connection refused",
		"warning: the configuration on disk was rejected, so tend runs the previous one: conf.d/redis.toml:4: unknown key",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("printStatus: output lacks %q:\n%s", want, out.String())
		}
	}
}
