package supervisor

// The tests in this file run the supervisor's rules against real processes and
// servers on 127.0.0.1: redis-server (Debian package redis-server), HTTP servers from
// net/http/httptest, and processes started from the test binary's roles. Each loads its
// configuration from a TOML file with config.Load, so that the defaults apply as in
// production. The user test needs root and the account nobody. Run them with
//
//	go test -race -run 'Rule|Host|Environment|LogFile|Nobody' ./supervisor/

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/internal/testenv"
	"tend/supervisor/execenv"
)

// rulesHost is the host name of the configurations loadRules writes, which exec
// actions receive as TEND_HOST.
const rulesHost = "rules-test"

// loadRules writes a main file with a cycle of 100 ms, the host name rulesHost, a state
// directory of its own and the TOML of services, and loads it with config.Load.
func loadRules(t *testing.T, services string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tend.toml")
	text := fmt.Sprintf("interval = \"100ms\"\nhostname = %q\nstate_dir = %q\n\n%s", rulesHost, dir, services)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load: %v\nconfiguration:\n%s", err, text)
	}
	return cfg
}

// ruleEvents returns the events of kind for the check of service, oldest first.
func ruleEvents(r *recorder, service string, kind alert.Kind, check string) []alert.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []alert.Event
	for _, ev := range r.events {
		if ev.Service == service && ev.Kind == kind && ev.Check == check {
			out = append(out, ev)
		}
	}
	return out
}

// waitRuleEvent waits for the first event of kind for the check of service.
func waitRuleEvent(t *testing.T, h *harness, service string, kind alert.Kind, check string) alert.Event {
	t.Helper()
	var found []alert.Event
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		found = ruleEvents(h.alerts, service, kind, check)
		return len(found) > 0
	}) {
		h.alerts.mu.Lock()
		defer h.alerts.mu.Unlock()
		t.Fatalf("no %s event for check %q of %s; events %+v", kind, check, service, h.alerts.events)
	}
	return found[0]
}

// requestCounter is an HTTP server that responds to every request with 200 and counts
// them. A host service with an http check on it shows how many cycles ran its probe.
// The supervisor launches a check's probe only after it handled the previous result.
// So when request n arrives, the rules before it in the service ran n-1 times or more.
type requestCounter struct {
	*httptest.Server
	served atomic.Int64
}

func newRequestCounter(t *testing.T) *requestCounter {
	c := &requestCounter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c.served.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(c.Close)
	return c
}

// check returns the TOML of an http check on the counter.
func (c *requestCounter) check() string {
	return fmt.Sprintf("\n[[service.check]]\ntype = \"http\"\nurl = %q\ntimeout = \"1s\"\n", c.URL)
}

// waitMore waits until the counter served n requests more than it had when called.
func (c *requestCounter) waitMore(t *testing.T, n int64) {
	t.Helper()
	want := c.served.Load() + n
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return c.served.Load() >= want }) {
		t.Fatalf("the counter served %d requests, want %d", c.served.Load(), want)
	}
}

// readEnviron returns the environment of the process pid.
func readEnviron(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for entry := range strings.SplitSeq(strings.TrimRight(string(data), "\x00"), "\x00") {
		if k, v, ok := strings.Cut(entry, "="); ok {
			env[k] = v
		}
	}
	return env
}

// readStatusIDs returns the four IDs of the Uid or Gid line of /proc/PID/status: real,
// effective, saved and file system.
func readStatusIDs(t *testing.T, pid int, key string) []string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no %s line in /proc/%d/status", key, pid)
	return nil
}

// stopProcess sends SIGSTOP to pid, and SIGCONT when the test ends if the same
// process still exists then.
func stopProcess(t *testing.T, pid int) {
	t.Helper()
	p, err := checks.ReadProcess("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if q, err := checks.ReadProcess("/proc", pid); err == nil && q.StartTicks == p.StartTicks {
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	})
}

// A redis-server that accepts connections but never replies fails the redis rule
// within its timeout, and the rule's restart replaces it with one that replies.
func TestRedisRuleRestartsStoppedServer(t *testing.T) {
	bin := testenv.LookPath(t, "redis-server", testenv.RedisInstall)
	port := testenv.FreePort(t)
	addr := testenv.Addr(port)
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "redis"
command = [%q, "--port", "%d", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
  "--dir", %q, "--loglevel", "warning"]
start_timeout = "1s"
stop_timeout = "1s"

[[service.check]]
type = "redis"
address = %q
timeout = "500ms"
action = "restart"
`, bin, port, t.TempDir(), addr))
	h := startHarnessConfig(t, cfg, true)
	first := h.waitService(t, "redis", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	if !testenv.WaitTCP(testenv.Context(t, time.Minute), addr) {
		t.Fatalf("redis-server does not listen on %s", addr)
	}

	stopProcess(t, first.PID)
	st := h.waitService(t, "redis", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != 0 && s.PID != first.PID
	})
	check := "redis " + addr
	if len(st.History) != 1 {
		t.Fatalf("history %+v, want one restart", st.History)
	}
	if trigger := st.History[0].Trigger; !strings.HasPrefix(trigger, check+": ") {
		t.Errorf("restart trigger %q, want it to start with %q", trigger, check+": ")
	}
	if alive(first.PID) {
		t.Errorf("the stopped redis-server, PID %d, is still alive after the restart", first.PID)
	}

	waitRuleEvent(t, h, "redis", alert.KindRecovered, check)
	failed := ruleEvents(h.alerts, "redis", alert.KindFailed, check)
	if len(failed) != 1 {
		t.Fatalf("%d failed events for %s, want 1: %+v", len(failed), check, failed)
	}
	if failed[0].Action != "restart" {
		t.Errorf("failed event action %q, want restart", failed[0].Action)
	}
	if n := len(h.service(t, "redis").History); n != 1 {
		t.Errorf("%d restarts after the new redis-server replied, want 1", n)
	}
}

// An http rule sends one failed event while the server returns 503, and one
// recovered event once it returns 200 again.
func TestHTTPRuleFailsAndRecovers(t *testing.T) {
	var status atomic.Int32
	status.Store(http.StatusOK)
	counter := &requestCounter{}
	counter.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		counter.served.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	t.Cleanup(counter.Close)
	cfg := loadRules(t, `
[[service]]
name = "web"
`+counter.check())
	h := startHarnessConfig(t, cfg, true)
	check := "http " + counter.URL

	counter.waitMore(t, 3)
	if n := len(ruleEvents(h.alerts, "web", alert.KindFailed, check)); n != 0 {
		t.Fatalf("%d failed events while the server returned 200", n)
	}
	status.Store(http.StatusServiceUnavailable)
	failed := waitRuleEvent(t, h, "web", alert.KindFailed, check)
	if !strings.Contains(failed.Message, "503") {
		t.Errorf("failed event message %q, want it to name status 503", failed.Message)
	}
	counter.waitMore(t, 3)
	if n := len(ruleEvents(h.alerts, "web", alert.KindFailed, check)); n != 1 {
		t.Errorf("%d failed events while the server kept returning 503, want 1", n)
	}

	status.Store(http.StatusOK)
	waitRuleEvent(t, h, "web", alert.KindRecovered, check)
	counter.waitMore(t, 3)
	if n := len(ruleEvents(h.alerts, "web", alert.KindRecovered, check)); n != 1 {
		t.Errorf("%d recovered events, want 1", n)
	}
	if n := len(ruleEvents(h.alerts, "web", alert.KindFailed, check)); n != 1 {
		t.Errorf("%d failed events in all, want 1", n)
	}
}

// A rule with for_cycles 2 and within_cycles 4 ignores failures four or more cycles
// apart, and fails on the second failure among the latest four results.
func TestWithinCyclesRule(t *testing.T) {
	// fails lists the requests that get 503, counted from 0. The others get 200.
	// Requests 0, 4, 8 and 12 fail alone; 14 is the second failure within four.
	fails := map[int]bool{0: true, 4: true, 8: true, 12: true, 14: true}
	const trigger = 14
	var (
		mu      sync.Mutex
		alerts  atomic.Pointer[recorder]
		arrived []int // failed events when each request arrived, -1 before the harness ran
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		i := len(arrived)
		n := -1
		if r := alerts.Load(); r != nil {
			n = r.count(alert.KindFailed)
		}
		arrived = append(arrived, n)
		mu.Unlock()
		if fails[i] {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "web"

[[service.check]]
type = "http"
url = %q
timeout = "1s"
for_cycles = 2
within_cycles = 4
`, srv.URL))
	h := startHarnessConfig(t, cfg, true)
	alerts.Store(h.alerts)

	served := func() int { mu.Lock(); defer mu.Unlock(); return len(arrived) }
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return served() > trigger+2 }) {
		t.Fatalf("the server got %d requests, want %d", served(), trigger+3)
	}
	mu.Lock()
	seen := append([]int(nil), arrived...)
	mu.Unlock()
	// When request i arrives, the results of requests 0 to i-1 have been recorded.
	for i := 1; i <= trigger+1; i++ {
		want := 0
		if i > trigger {
			want = 1
		}
		if seen[i] >= 0 && seen[i] != want {
			t.Errorf("after the result of request %d: %d failed events, want %d", i-1, seen[i], want)
		}
	}
	failed := ruleEvents(h.alerts, "web", alert.KindFailed, "http "+srv.URL)
	if len(failed) != 1 {
		t.Fatalf("%d failed events, want 1", len(failed))
	}
	if want := "passes within 1s, 2 times within 4 cycles"; failed[0].Threshold != want {
		t.Errorf("failed event threshold %q, want %q", failed[0].Threshold, want)
	}
}

// The program of an exec action receives the service, the event, the state and the
// host name in its environment.
func TestExecActionEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "exec.env")
	script := fmt.Sprintf("env | grep '^TEND_' > %[1]s.tmp && mv %[1]s.tmp %[1]s", out)
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "worker"
command = ["sleep", "1000"]

[[service.check]]
type = "threads"
above = 0
action = "exec"
exec = ["sh", "-c", %q]
`, script))
	h := startHarnessConfig(t, cfg, true)

	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		_, err := os.Stat(out)
		return err == nil
	}) {
		t.Fatal("the exec action never wrote its environment")
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(strings.TrimRight(line, "\n"), "="); ok {
			env[k] = v
		}
	}
	want := map[string]string{
		"TEND_SERVICE": "worker",
		"TEND_EVENT":   "threads: threads 1 threads > 0",
		"TEND_STATE":   "running",
		"TEND_HOST":    rulesHost,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
	if ev := waitRuleEvent(t, h, "worker", alert.KindFailed, "threads"); ev.Action != "exec" {
		t.Errorf("failed event action %q, want exec", ev.Action)
	}
}

// A rule's stop action leaves the service stopped and held, and a rule's unmonitor
// action stops watching the service and leaves its process running.
func TestStopAndUnmonitorActions(t *testing.T) {
	clock := newRequestCounter(t)
	cfg := loadRules(t, `
[[service]]
name = "stopped"
command = ["sleep", "1000"]

[[service.check]]
type = "threads"
above = 0
action = "stop"

[[service]]
name = "left"
command = ["sleep", "1000"]

[[service.check]]
type = "threads"
above = 0
action = "unmonitor"

[[service]]
name = "clock"
`+clock.check())
	h := startHarnessConfig(t, cfg, true)

	st := h.waitService(t, "stopped", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })
	if ev := waitRuleEvent(t, h, "stopped", alert.KindFailed, "threads"); ev.Action != "stop" {
		t.Errorf("failed event action %q, want stop", ev.Action)
	}
	left := h.waitService(t, "left", "unmonitor", func(s ServiceStatus) bool { return s.State == StateUnmonitored })
	if ev := waitRuleEvent(t, h, "left", alert.KindFailed, "threads"); ev.Action != "unmonitor" {
		t.Errorf("failed event action %q, want unmonitor", ev.Action)
	}
	if left.PID == 0 || !alive(left.PID) {
		t.Fatalf("unmonitored service has PID %d, want its process left running", left.PID)
	}

	clock.waitMore(t, 5)
	st = h.service(t, "stopped")
	if st.State != StateStopped || !st.Held || st.PID != 0 {
		t.Errorf("stopped service five cycles later: state %s, held %v, PID %d; want stopped, held, 0",
			st.State, st.Held, st.PID)
	}
	if n := len(st.History); n != 0 {
		t.Errorf("stopped service history %+v, want no restart", st.History)
	}
	now := h.service(t, "left")
	if now.State != StateUnmonitored || now.PID != left.PID || !alive(left.PID) {
		t.Errorf("unmonitored service five cycles later: state %s, PID %d (alive %v); want unmonitored, PID %d alive",
			now.State, now.PID, alive(left.PID), left.PID)
	}
}

// startDaemonized starts sleep through a shell that exits at once, as an init script
// does, and returns the PID of the sleep, whose parent is then the same reaper as that
// of a service started by its start program.
func startDaemonized(t *testing.T) int {
	t.Helper()
	out, err := exec.Command("sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $!").Output()
	if err != nil {
		t.Fatalf("start sleep: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("PID of sleep: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	return pid
}

// A pidfile switched to a newer process, after which the old one ends, fails the pid
// rule once. The new process has the same parent, so the ppid rule passes.
func TestPIDRuleFailsOnceOnChange(t *testing.T) {
	clock := newRequestCounter(t)
	pidfile := filepath.Join(t.TempDir(), "app.pid")
	t.Cleanup(func() {
		if data, err := os.ReadFile(pidfile); err == nil {
			killPID(strings.TrimSpace(string(data)))
		}
	})
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "app"
pidfile = %q
start = ["sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $! > %s"]

[[service.check]]
type = "pid"

[[service.check]]
type = "ppid"

[[service]]
name = "clock"
`, pidfile, pidfile)+clock.check())
	h := startHarnessConfig(t, cfg, true)
	old := h.waitService(t, "app", "start", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
	t.Cleanup(func() { _ = syscall.Kill(old.PID, syscall.SIGKILL) })
	clock.waitMore(t, 3) // The pid and ppid rules have seen the first process.

	next := startDaemonized(t)
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(next)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(old.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	h.waitService(t, "app", "follow the new PID", func(s ServiceStatus) bool { return s.PID == next })
	failed := waitRuleEvent(t, h, "app", alert.KindFailed, "pid")
	if want := fmt.Sprintf("PID of app changed from %d to %d", old.PID, next); failed.Message != want {
		t.Errorf("pid failed event message %q, want %q", failed.Message, want)
	}
	waitRuleEvent(t, h, "app", alert.KindRecovered, "pid")

	clock.waitMore(t, 3)
	if n := len(ruleEvents(h.alerts, "app", alert.KindFailed, "pid")); n != 1 {
		t.Errorf("%d failed events for the pid rule, want 1", n)
	}
	if ev := ruleEvents(h.alerts, "app", alert.KindFailed, "ppid"); len(ev) != 0 {
		t.Errorf("ppid rule failed for a process with the same parent: %+v", ev)
	}
	if st := h.service(t, "app"); st.State != StateRunning || len(st.History) != 0 {
		t.Errorf("state %s, history %+v; want running with no restart", st.State, st.History)
	}
}

// readLoad1 returns the 1-minute load average from /proc/loadavg.
func readLoad1(t *testing.T) float64 {
	t.Helper()
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		t.Fatalf("/proc/loadavg is empty")
	}
	load, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		t.Fatalf("parse /proc/loadavg: %v", err)
	}
	return load
}

// ensureLoad makes the 1-minute load average at least minimum. On an idle machine it
// starts a process that keeps one core busy until the test ends. The kernel updates
// the average every 5 seconds, so the wait takes that long or more.
func ensureLoad(t *testing.T, minimum float64) {
	t.Helper()
	if readLoad1(t) >= minimum {
		return
	}
	spin := exec.Command("sh", "-c", "while :; do :; done")
	if err := spin.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = spin.Process.Kill()
		_ = spin.Wait()
	})
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return readLoad1(t) >= minimum }) {
		t.Fatalf("the 1-minute load average stays below %.2f", minimum)
	}
}

// A host service runs only its host rules: a load limit below the current load and a
// tiny filesystem limit fail, a memory limit of 100% passes, and no process is started
// or checked.
func TestHostRules(t *testing.T) {
	ensureLoad(t, 0.05)
	clock := newRequestCounter(t)
	dir := t.TempDir()
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "host"

[[service.check]]
type = "load"
above = 0.01

[[service.check]]
type = "host_memory"
above = "100%%"

[[service.check]]
type = "host_memory"
above = "1B"

[[service.check]]
type = "filesystem"
path = %q
above = "1B"
`, dir)+clock.check())
	if n := len(cfg.Services[0].Checks); n != 5 {
		t.Fatalf("host service has %d checks, want the 5 it declares", n)
	}
	h := startHarnessConfig(t, cfg, true)

	load := waitRuleEvent(t, h, "host", alert.KindFailed, "load 1m")
	if !regexp.MustCompile(`^load 1m [0-9.]+ > 0\.01$`).MatchString(load.Message) {
		t.Errorf("load failed event message %q, want \"load 1m N > 0.01\"", load.Message)
	}
	fs := waitRuleEvent(t, h, "host", alert.KindFailed, "filesystem "+dir)
	if !strings.Contains(fs.Message, dir) {
		t.Errorf("filesystem failed event message %q, want it to name %s", fs.Message, dir)
	}
	used := waitRuleEvent(t, h, "host", alert.KindFailed, "host_memory > 1B")
	if used.Threshold != "> 1B" {
		t.Errorf("host_memory failed event threshold %q, want the 1B limit to fail and 100%% to pass", used.Threshold)
	}

	clock.waitMore(t, 3)
	if ev := ruleEvents(h.alerts, "host", alert.KindFailed, "host_memory > 100%"); len(ev) != 0 {
		t.Errorf("the host_memory check against 100%% failed: %+v", ev)
	}
	st := h.service(t, "host")
	if st.State != StateRunning || st.PID != 0 || len(st.History) != 0 {
		t.Errorf("host service: state %s, PID %d, history %+v; want running, no process, no restart",
			st.State, st.PID, st.History)
	}
	if ev := ruleEvents(h.alerts, "host", alert.KindFailed, "process"); len(ev) != 0 {
		t.Errorf("host service has process events: %+v", ev)
	}
}

// Rules on the threads, children and open files of a process fail with reasons that
// give the figures.
func TestProcessFigureRules(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "files"
command = [%[1]q]
environment = { %[2]s = "open-files", FILES = "50" }

[[service.check]]
type = "fds"
above = 50

[[service]]
name = "parent"
command = [%[1]q]
environment = { %[2]s = "fork-children", CHILDREN = "3" }

[[service.check]]
type = "children"
above = 2

[[service]]
name = "threaded"
command = [%[1]q]
environment = { %[2]s = "threads", THREADS = "20" }

[[service.check]]
type = "threads"
above = 16
`, exe, roleVariable))
	h := startHarnessConfig(t, cfg, true)

	tests := []struct {
		service, check string
		pattern        string
		atLeast        int
	}{
		{"files", "fds", `^fds (\d+) open files > 50$`, 53},
		{"parent", "children", `^children (\d+) children > 2$`, 3},
		{"threaded", "threads", `^threads (\d+) threads > 16$`, 21},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			ev := waitRuleEvent(t, h, tt.service, alert.KindFailed, tt.check)
			m := regexp.MustCompile(tt.pattern).FindStringSubmatch(ev.Message)
			if m == nil {
				t.Fatalf("failed event message %q, want it to match %s", ev.Message, tt.pattern)
			}
			if n, _ := strconv.Atoi(m[1]); n < tt.atLeast {
				t.Errorf("failed event message %q: figure %d, want at least %d", ev.Message, n, tt.atLeast)
			}
		})
	}
	if ev := ruleEvents(h.alerts, "parent", alert.KindFailed, "children"); len(ev) > 0 &&
		ev[0].Message != "children 3 children > 2" {
		t.Errorf("children failed event message %q, want exactly 3 children", ev[0].Message)
	}
}

// An uptime rule with below fails while the process is young and passes once it has
// run longer than the limit.
func TestUptimeRuleBelow(t *testing.T) {
	cfg := loadRules(t, `
[[service]]
name = "young"
command = ["sleep", "1000"]

[[service.check]]
type = "uptime"
below = "1s"
`)
	h := startHarnessConfig(t, cfg, true)

	failed := waitRuleEvent(t, h, "young", alert.KindFailed, "uptime")
	recovered := waitRuleEvent(t, h, "young", alert.KindRecovered, "uptime")
	started := h.service(t, "young").Started
	if d := failed.Time.Sub(started); d >= time.Second {
		t.Errorf("failed event %s after the start, want within the 1s limit", d)
	}
	if d := recovered.Time.Sub(started); d < time.Second {
		t.Errorf("recovered event %s after the start, want after the 1s limit", d)
	}
	if n := len(ruleEvents(h.alerts, "young", alert.KindFailed, "uptime")); n != 1 {
		t.Errorf("%d failed events, want 1", n)
	}
}

// A file rule with a pattern fails once on an appended line that matches, and quotes
// the line.
func TestFilePatternRule(t *testing.T) {
	clock := newRequestCounter(t)
	logPath := filepath.Join(t.TempDir(), "app.log")
	if err := os.WriteFile(logPath, []byte("INFO started\nERROR before tend looked\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "logs"

[[service.check]]
type = "file"
path = %q
pattern = "ERROR"

[[service]]
name = "clock"
`, logPath)+clock.check())
	h := startHarnessConfig(t, cfg, true)
	check := "file " + logPath + " (pattern)"
	clock.waitMore(t, 3) // The file rule has taken its starting offset.
	if ev := ruleEvents(h.alerts, "logs", alert.KindFailed, check); len(ev) != 0 {
		t.Fatalf("failed events for lines written before the first cycle: %+v", ev)
	}

	f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString("INFO request served\n2025-01-02 ERROR disk full on /var\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	failed := waitRuleEvent(t, h, "logs", alert.KindFailed, check)
	if want := `"2025-01-02 ERROR disk full on /var"`; !strings.Contains(failed.Message, want) {
		t.Errorf("failed event message %q, want it to quote %s", failed.Message, want)
	}
	waitRuleEvent(t, h, "logs", alert.KindRecovered, check)
	clock.waitMore(t, 3)
	if n := len(ruleEvents(h.alerts, "logs", alert.KindFailed, check)); n != 1 {
		t.Errorf("%d failed events for one matching line, want 1", n)
	}
}

// A program rule fails on an unexpected exit status, with the last line of the
// program's output in the reason.
func TestProgramRuleLastLine(t *testing.T) {
	cfg := loadRules(t, `
[[service]]
name = "queue"

[[service.check]]
type = "program"
command = ["sh", "-c", "echo checking the queue; echo 'queue has 12 jobs, max 10' >&2; exit 2"]
`)
	h := startHarnessConfig(t, cfg, true)

	failed := waitRuleEvent(t, h, "queue", alert.KindFailed, "program sh -c echo checking the queue; echo 'qu…")
	if want := "sh exited with status 2, want 0: queue has 12 jobs, max 10"; failed.Message != want {
		t.Errorf("failed event message %q, want %q", failed.Message, want)
	}
}

// An owned service with a user runs with that account's IDs and its HOME, USER,
// LOGNAME and PATH, and without tend's own variables unless inherit_environment is set.
func TestOwnedServiceAsNobody(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("running a service as another user needs root")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no account nobody: %v", err)
	}
	const marker, value = "TEND_RULES_TEST_MARKER", "only-in-tend"
	t.Setenv(marker, value)
	cfg := loadRules(t, `
[[service]]
name = "plain"
command = ["sleep", "1000"]
user = "nobody"

[[service]]
name = "inherit"
command = ["sleep", "1000"]
user = "nobody"
inherit_environment = true
`)
	h := startHarnessConfig(t, cfg, true)

	for _, name := range []string{"plain", "inherit"} {
		t.Run(name, func(t *testing.T) {
			st := h.waitService(t, name, "start", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
			for _, key := range []string{"Uid", "Gid"} {
				want := nobody.Uid
				if key == "Gid" {
					want = nobody.Gid
				}
				for i, id := range readStatusIDs(t, st.PID, key) {
					if id != want {
						t.Errorf("%s %d of PID %d = %s, want %s", key, i, st.PID, id, want)
					}
				}
			}
			env := readEnviron(t, st.PID)
			want := map[string]string{
				"HOME": nobody.HomeDir, "USER": "nobody", "LOGNAME": "nobody", "TEND_SERVICE": name,
			}
			if name == "plain" {
				want["PATH"] = execenv.DefaultPath
			}
			for k, v := range want {
				if env[k] != v {
					t.Errorf("%s = %q, want %q", k, env[k], v)
				}
			}
			got, ok := env[marker]
			switch {
			case name == "plain" && ok:
				t.Errorf("%s = %q reached the service without inherit_environment", marker, got)
			case name == "inherit" && got != value:
				t.Errorf("%s = %q (set %v) with inherit_environment, want %q", marker, got, ok, value)
			}
		})
	}
}

// Values from environment_file reach the service's process, and environment
// overrides them.
func TestEnvironmentFileOverridden(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "app.env")
	text := "# defaults\nFROM_FILE=file value\nOVERRIDDEN=from the file\n"
	if err := os.WriteFile(envFile, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "app"
command = ["sleep", "1000"]
environment_file = %q
environment = { OVERRIDDEN = "from environment" }
`, envFile))
	h := startHarnessConfig(t, cfg, true)
	st := h.waitService(t, "app", "start", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })

	env := readEnviron(t, st.PID)
	if got := env["FROM_FILE"]; got != "file value" {
		t.Errorf("FROM_FILE = %q, want %q from the file", got, "file value")
	}
	if got := env["OVERRIDDEN"]; got != "from environment" {
		t.Errorf("OVERRIDDEN = %q, want %q: environment applies after environment_file", got, "from environment")
	}
}

// The output of an owned service goes to its log file, which rotates at log_max_size
// and keeps log_max_files older files.
func TestLogFileRotation(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "app.log")
	// 200 lines of 100 bytes are about five files of 4 KiB.
	script := `i=0; while [ $i -lt 200 ]; do printf 'line %03d %090d\n' $i 0; i=$((i+1)); done; ` +
		`echo 'to stderr' >&2; echo done; exec sleep 1000`
	cfg := loadRules(t, fmt.Sprintf(`
[[service]]
name = "app"
command = ["sh", "-c", %q]
log_file = %q
log_max_size = "4KiB"
log_max_files = 2
`, script, logPath))
	h := startHarnessConfig(t, cfg, true)
	h.waitService(t, "app", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		data, _ := os.ReadFile(logPath)
		return strings.HasSuffix(string(data), "done\n")
	}) {
		t.Fatal("the log file never got the last line of output")
	}

	var all []string
	for _, path := range []string{logPath + ".2", logPath + ".1", logPath} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("log file: %v", err)
		}
		if len(data) > 4096 {
			t.Errorf("%s has %d bytes, want at most log_max_size 4096", path, len(data))
		}
		all = append(all, strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")...)
	}
	if _, err := os.Stat(logPath + ".3"); err == nil {
		t.Errorf("%s.3 exists, want at most 2 older files", logPath)
	}

	if n := len(all); n < 3 || all[n-2] != "to stderr" || all[n-1] != "done" {
		t.Fatalf("log ends with %q, want the stderr line and done", all[max(0, len(all)-2):])
	}
	lines := all[:len(all)-2]
	first, err := strconv.Atoi(strings.Fields(lines[0])[1])
	if err != nil {
		t.Fatalf("first kept line %q: %v", lines[0], err)
	}
	if first == 0 {
		t.Errorf("line 000 is still kept: the oldest files were not removed")
	}
	for i, line := range lines {
		if want := fmt.Sprintf("line %03d ", first+i); !strings.HasPrefix(line, want) {
			t.Fatalf("kept line %d is %.20q, want it to start with %q: lines lost or out of order", i, line, want)
		}
	}
	if last := first + len(lines) - 1; last != 199 {
		t.Errorf("last kept line is %d, want 199", last)
	}
}
