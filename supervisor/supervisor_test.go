package supervisor

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/internal/testenv"
)

// recorder is an Alerter that keeps the events it is sent.
type recorder struct {
	mu     sync.Mutex
	events []alert.Event
}

func (r *recorder) Send(ev alert.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder) find(kind alert.Kind, check string) (alert.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range r.events {
		if ev.Kind == kind && (check == "" || ev.Check == check) {
			return ev, true
		}
	}
	return alert.Event{}, false
}

func (r *recorder) count(kind alert.Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// countCheck counts the events of kind about the check named check.
func (r *recorder) countCheck(kind alert.Kind, check string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind && ev.Check == check {
			n++
		}
	}
	return n
}

// harness runs a Supervisor in the background until the test ends.
type harness struct {
	sup    *Supervisor
	alerts *recorder
	cancel context.CancelFunc
	done   chan error
	// runErr is what Run returned, set by stop.
	runErr error
}

func ownedService(name string, argv ...string) config.Service {
	return config.Service{
		Name:         name,
		Command:      argv,
		StopSignal:   config.Signal(syscall.SIGTERM),
		StartTimeout: config.Duration(5 * time.Second),
		StopTimeout:  config.Duration(2 * time.Second),
		RestartLimit: config.RestartLimit{Restarts: 5, Cycles: 5},
		Checks: []config.Check{{
			Type: config.CheckProcess, ForCycles: 1, Action: config.ActionRestart,
		}},
	}
}

func startHarness(t *testing.T, interval time.Duration, services ...config.Service) *harness {
	t.Helper()
	cfg := &config.Config{Interval: config.Duration(interval), Hostname: "test", Services: services}
	return startHarnessConfig(t, cfg, true)
}

// startHarnessConfig runs a Supervisor on cfg. With stopOwned, the end of the test
// stops the owned services; without, they keep running for another Supervisor on the
// same state directory to adopt.
func startHarnessConfig(t testing.TB, cfg *config.Config, stopOwned bool, options ...func(*Options)) *harness {
	t.Helper()
	h := &harness{alerts: &recorder{}, done: make(chan error, 1)}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if _, ok := t.(*testing.B); ok {
		logger = slog.New(slog.DiscardHandler) // Logging would be part of the figures.
	}
	opts := Options{Config: cfg, Alerter: h.alerts, Logger: logger}
	for _, o := range options {
		o(&opts)
	}
	sup, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.sup = sup
	if stopOwned {
		sup.StopOwnedOnExit()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	ready := make(chan struct{})
	go func() { h.done <- sup.Run(ctx, func() { close(ready) }) }()
	t.Cleanup(h.stop)
	select {
	case <-ready:
	case err := <-h.done:
		t.Fatalf("Run returned before ready: %v", err)
	}
	return h
}

// stop cancels Run and waits for it to return.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	if err := <-h.done; err != nil {
		h.runErr = err
	}
}

// service returns the status of the named service.
func (h *harness) service(t testing.TB, name string) ServiceStatus {
	t.Helper()
	st, err := h.sup.Status(testenv.Context(t, time.Minute), name)
	if err != nil {
		t.Fatalf("Status(%q): %v", name, err)
	}
	if len(st) != 1 || st[0].Name != name {
		t.Fatalf("Status(%q) = %d services, want that one", name, len(st))
	}
	return st[0]
}

// waitService waits until the named service's status satisfies cond.
func (h *harness) waitService(t testing.TB, name, what string, cond func(ServiceStatus) bool) ServiceStatus {
	t.Helper()
	var last ServiceStatus
	ok := testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		last = h.service(t, name)
		return cond(last)
	})
	if !ok {
		t.Fatalf("service %s: %s did not happen; last status %+v", name, what, last)
	}
	return last
}

// waitServiceTight polls the named service's status without pause until cond holds,
// for benchmarks that time the change. It fails after a minute.
func (h *harness) waitServiceTight(t testing.TB, name string, cond func(ServiceStatus) bool) ServiceStatus {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if st := h.service(t, name); cond(st) {
			return st
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("service %s: condition not met within a minute", name)
	return ServiceStatus{}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}

func alive(pid int) bool {
	p, err := checks.ReadProcess("/proc", pid)
	return err == nil && !p.Zombie()
}

// An owned service's crash is handled at once: with an hour-long cycle, the replacement
// runs long before the next cycle.
func TestStatusByName(t *testing.T) {
	h := startHarness(t, time.Hour,
		ownedService("a", "sleep", "60"), ownedService("b", "sleep", "60"), ownedService("c", "sleep", "60"))
	ctx := testenv.Context(t, time.Minute)

	all, err := h.sup.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	if got := statusNames(all); got != "a b c" {
		t.Errorf("Status() names = %q, want every service in configuration order", got)
	}
	some, err := h.sup.Status(ctx, "c", "a", "missing")
	if err != nil {
		t.Fatalf("Status(c, a, missing): %v", err)
	}
	if got := statusNames(some); got != "a c" {
		t.Errorf("Status(c, a, missing) names = %q, want \"a c\"", got)
	}
	none, err := h.sup.Status(ctx, "missing")
	if err != nil {
		t.Fatalf("Status(missing): %v", err)
	}
	if len(none) != 0 {
		t.Errorf("Status(missing) = %d services, want none", len(none))
	}
}

func statusNames(list []ServiceStatus) string {
	names := make([]string, len(list))
	for i, st := range list {
		names[i] = st.Name
	}
	return strings.Join(names, " ")
}

func TestOwnedCrashRestartedAtOnce(t *testing.T) {
	h := startHarness(t, time.Hour, ownedService("sleeper", "sleep", "1000"))
	first := h.waitService(t, "sleeper", "start", func(s ServiceStatus) bool { return s.PID != 0 })

	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	next := h.waitService(t, "sleeper", "restart", func(s ServiceStatus) bool {
		return s.PID != 0 && s.PID != first.PID && s.State == StateRunning
	})
	if !alive(next.PID) {
		t.Errorf("replacement PID %d is not alive", next.PID)
	}
	ev, ok := h.alerts.find(alert.KindFailed, "process")
	if !ok {
		t.Fatalf("no failed event for the process check; events %+v", h.alerts.events)
	}
	if !strings.Contains(ev.Message, "killed by signal 9") {
		t.Errorf("failed event message = %q, want it to say killed by signal 9", ev.Message)
	}
	if ev.Action != "restart" {
		t.Errorf("failed event action = %q, want restart", ev.Action)
	}
}

// The processes that a crashed owned process left running end before its replacement
// starts, so that the old workers never run beside the new ones.
func TestOwnedCrashEndsLeftovers(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "worker.pid")
	// The worker ignores SIGTERM, so it ends only by the SIGKILL after the stop timeout.
	svc := ownedService("app", "sh", "-c",
		"(trap '' TERM; exec sleep 1000) & echo $! > "+pidfile+"; exec sleep 1001")
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
	h := startHarnessConfig(t, cfg, true)
	first := h.waitService(t, "app", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	var worker int
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		worker, _ = readPID(pidfile)
		return worker != 0
	}) {
		t.Fatal("the service did not write its worker's PID")
	}
	t.Cleanup(func() { _ = syscall.Kill(worker, syscall.SIGKILL) })

	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.waitService(t, "app", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != first.PID && s.PID != 0
	})
	if alive(worker) {
		t.Errorf("worker %d of the crashed process still runs beside its replacement", worker)
	}
}

// readPID reads the PID that a test service wrote to path, 0 while the file is empty.
func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, nil
	}
	return pid, nil
}

// Shutdown stops an owned service's whole process group, escalating to SIGKILL for a
// process that ignores SIGTERM.
func TestShutdownStopsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "grandchild.pid")
	svc := ownedService("stubborn", "sh", "-c",
		"trap '' TERM; sh -c 'trap \"\" TERM; echo $$ > "+pidfile+"; while :; do sleep 0.1; done' & wait")
	svc.StopTimeout = config.Duration(300 * time.Millisecond)
	h := startHarness(t, time.Hour, svc)
	st := h.waitService(t, "stubborn", "start", func(s ServiceStatus) bool { return s.PID != 0 })

	var grandchild int
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		pid, _, err := checks.ReadPidfile(pidfile)
		grandchild = pid
		return err == nil
	})
	if grandchild == 0 {
		t.Fatal("the grandchild never wrote its pidfile")
	}
	h.stop()
	for _, pid := range []int{st.PID, grandchild} {
		if alive(pid) {
			t.Errorf("PID %d still alive after shutdown", pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// A crash loop ends at the restart limit with one alert, and the service is unmonitored.
func TestCrashLoopUnmonitored(t *testing.T) {
	svc := ownedService("crasher", "false")
	svc.RestartLimit = config.RestartLimit{Restarts: 2, Cycles: 10}
	h := startHarness(t, time.Hour, svc)

	h.waitService(t, "crasher", "unmonitor", func(s ServiceStatus) bool { return s.State == StateUnmonitored })
	if n := h.alerts.count(alert.KindRestartLimit); n != 1 {
		t.Errorf("%d restart-limit events, want 1", n)
	}
	if n := h.alerts.count(alert.KindFailed); n != 1 {
		t.Errorf("%d failed events, want 1 for the whole loop", n)
	}
}

// A TCP check on a closed port fails with the reason, and passes once a
// listener appears, which sends a recovery event.
func TestTCPCheckFailsAndRecovers(t *testing.T) {
	addr := testenv.Addr(testenv.FreePort(t))
	svc := ownedService("web", "sleep", "1000")
	svc.Checks = append(svc.Checks, config.Check{
		Type: config.CheckTCP, Address: addr, Timeout: config.Duration(time.Second),
		ForCycles: 2, Action: config.ActionAlert,
	})
	h := startHarness(t, 100*time.Millisecond, svc)

	ctx := testenv.Context(t, time.Minute)
	var failed alert.Event
	if !testenv.WaitFor(ctx, func() bool {
		var ok bool
		failed, ok = h.alerts.find(alert.KindFailed, "tcp "+addr)
		return ok
	}) {
		t.Fatal("no failed event for the tcp check")
	}
	if want := "connection refused on " + addr; failed.Message != want {
		t.Errorf("failed event message = %q, want %q", failed.Message, want)
	}
	if failed.Threshold != "accepts a connection within 1s for 2 cycles" {
		t.Errorf("failed event threshold = %q", failed.Threshold)
	}

	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	defer l.Close()
	if !testenv.WaitFor(ctx, func() bool { _, ok := h.alerts.find(alert.KindRecovered, "tcp "+addr); return ok }) {
		t.Fatal("no recovered event after the port opened")
	}
	if n := h.alerts.count(alert.KindFailed); n != 1 {
		t.Errorf("%d failed events, want 1 while the failure lasted", n)
	}
}

// A process using a whole core fails a cpu rule after the configured number of cycles.
func TestCPURuleFails(t *testing.T) {
	svc := ownedService("spinner", "sh", "-c", "while :; do :; done")
	svc.Checks = append(svc.Checks, config.Check{
		Type: config.CheckCPU, Of: config.CPUScopeMachine, ForCycles: 2, Action: config.ActionAlert,
		Limit: config.Limit{Value: 10, Unit: config.UnitPercent, Text: "10%"},
	})
	h := startHarness(t, 200*time.Millisecond, svc)

	ctx := testenv.Context(t, time.Minute)
	var ev alert.Event
	if !testenv.WaitFor(ctx, func() bool { var ok bool; ev, ok = h.alerts.find(alert.KindFailed, "cpu"); return ok }) {
		t.Fatal("no failed event for the cpu rule")
	}
	if !strings.HasPrefix(ev.Message, "cpu ") || !strings.Contains(ev.Message, "> 10%") {
		t.Errorf("cpu event message = %q, want \"cpu N%% > 10%%\"", ev.Message)
	}
	if ev.Threshold != "> 10% for 2 cycles" {
		t.Errorf("cpu event threshold = %q", ev.Threshold)
	}
}

// An external service whose pidfile names a reused PID is not taken for running, and
// the process with that PID is never signalled.
func TestStalePidfileNotSignalled(t *testing.T) {
	bystander := exec.Command("sleep", "1000")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bystander.Process.Kill()
		_ = bystander.Wait()
	})
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "stale.pid")
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(bystander.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The pidfile was written an hour before the bystander started: its PID is reused.
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(pidfile, old, old); err != nil {
		t.Fatal(err)
	}
	svc := config.Service{
		Name: "stale", Pidfile: pidfile,
		Start:        []string{"false"},
		StopSignal:   config.Signal(syscall.SIGTERM),
		StartTimeout: config.Duration(time.Second), StopTimeout: config.Duration(time.Second),
		RestartLimit: config.RestartLimit{Restarts: 2, Cycles: 100},
		Checks:       []config.Check{{Type: config.CheckProcess, ForCycles: 1, Action: config.ActionRestart}},
	}
	h := startHarness(t, 100*time.Millisecond, svc)

	st := h.waitService(t, "stale", "restart limit", func(s ServiceStatus) bool { return s.State == StateUnmonitored })
	if st.PID != 0 {
		t.Errorf("PID = %d for a stale pidfile, want 0", st.PID)
	}
	if ev, ok := h.alerts.find(alert.KindActionFailed, ""); !ok || !strings.Contains(ev.Message, "start program") {
		t.Errorf("action-failed event = %+v (found %v), want the start program's failure", ev, ok)
	}
	if !alive(bystander.Process.Pid) {
		t.Errorf("the process with the reused PID %d was killed", bystander.Process.Pid)
	}
}

// A service whose start fails at every cycle reaches the restart limit too, instead of
// failing and alerting at every cycle for ever.
func TestFailingStartUnmonitored(t *testing.T) {
	svc := ownedService("missing", "/nonexistent/program")
	svc.RestartLimit = config.RestartLimit{Restarts: 3, Cycles: 3}
	h := startHarness(t, 50*time.Millisecond, svc)

	h.waitService(t, "missing", "unmonitor", func(s ServiceStatus) bool { return s.State == StateUnmonitored })
	if n := h.alerts.count(alert.KindRestartLimit); n != 1 {
		t.Errorf("%d restart-limit events, want 1", n)
	}
	// One failed start at daemon start plus three failed restarts, alerted once.
	if n := h.alerts.count(alert.KindActionFailed); n != 1 {
		t.Errorf("%d action-failed events, want 1", n)
	}
}
