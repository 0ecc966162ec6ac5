package supervisor

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/checks"
	"tend/config"
	"tend/internal/testenv"
)

// pidfileService returns an external service whose start program daemonizes a sleep
// and writes its pidfile.
func pidfileService(t *testing.T, name string) config.Service {
	pidfile := filepath.Join(t.TempDir(), name+".pid")
	svc := ownedService(name)
	svc.Command = nil
	svc.Pidfile = pidfile
	svc.Start = []string{"sh", "-c", "sleep 1000 >/dev/null 2>&1 & echo $! > " + pidfile}
	t.Cleanup(func() {
		if data, err := os.ReadFile(pidfile); err == nil {
			killPID(strings.TrimSpace(string(data)))
		}
	})
	return svc
}

// The exit of an external service's process is noticed through its pidfd: with an
// hour-long cycle, the start program runs again long before the next cycle.
func TestExternalCrashNoticedAtOnce(t *testing.T) {
	h := startHarness(t, time.Hour, pidfileService(t, "redis"))
	first := h.waitService(t, "redis", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := h.waitService(t, "redis", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != 0 && s.PID != first.PID
	})
	if len(st.History) != 1 {
		t.Fatalf("history %+v, want one restart", st.History)
	}
	exit := st.History[0].Exit
	if exit == nil || exit.PID != first.PID || exit.Status != "exit status unknown" {
		t.Errorf("history exit %+v, want PID %d with unknown status", exit, first.PID)
	}
}

// A graceful reload that starts a new process, rewrites the pidfile and ends the old
// process is followed: the service keeps running under the new PID without a restart.
func TestPidfileReloadFollowed(t *testing.T) {
	svc := pidfileService(t, "unicorn")
	h := startHarness(t, time.Hour, svc)
	old := h.waitService(t, "unicorn", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

	next := exec.Command("sleep", "1000")
	if err := next.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = next.Process.Kill()
		_ = next.Wait()
	})
	time.Sleep(20 * time.Millisecond) // The pidfile must be newer than the process.
	if err := os.WriteFile(svc.Pidfile, []byte(strconv.Itoa(next.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(old.PID, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	h.waitService(t, "unicorn", "follow the new PID", func(s ServiceStatus) bool { return s.PID == next.Process.Pid })
	if _, ok := h.alerts.find(alert.KindPIDChanged, ""); !ok {
		t.Error("no pid_changed event")
	}
	st := h.service(t, "unicorn")
	if st.State != StateRunning || len(st.History) != 0 {
		t.Errorf("state %s, history %+v; want running with no restart", st.State, st.History)
	}
}

// A start program that exits at once and writes the pidfile later is waited for.
func TestLatePidfileWaitedFor(t *testing.T) {
	svc := pidfileService(t, "late")
	svc.Start = []string{"sh", "-c", "(sleep 0.5; sleep 1000 & echo $! > " + svc.Pidfile + ") >/dev/null 2>&1 &"}
	h := startHarness(t, time.Hour, svc)

	st := h.waitService(t, "late", "start", func(s ServiceStatus) bool { return s.State != StateStarting })
	if st.State != StateRunning || st.PID == 0 {
		t.Errorf("state %s, PID %d, reason %q; want running", st.State, st.PID, st.Reason)
	}
	if n := h.alerts.count(alert.KindActionFailed); n != 0 {
		t.Errorf("%d action_failed events, want 0", n)
	}
}

// Stopping a service frees a port held by its grandchild in a session of its own.
func TestStopFreesSetsidPort(t *testing.T) {
	portFile := filepath.Join(t.TempDir(), "port")
	svc := roleService(t, "web", "setsid-listen", map[string]string{"PORT_FILE": portFile})
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
	h := startHarnessConfig(t, cfg, true)
	h.waitService(t, "web", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

	var port string
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		data, err := os.ReadFile(portFile)
		port = string(data)
		return err == nil && port != ""
	})
	addr := net.JoinHostPort("127.0.0.1", port)
	if !testenv.WaitTCP(testenv.Context(t, time.Minute), addr) {
		t.Fatalf("the grandchild does not listen on %s", addr)
	}

	if err := h.sup.Control(testenv.Context(t, time.Minute), "web", CommandStop, "test"); err != nil {
		t.Fatal(err)
	}
	h.waitService(t, "web", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		_ = conn.Close()
		t.Errorf("%s still accepts connections after stop", addr)
	}
}

// notifyService returns an owned service that reports readiness through NOTIFY_SOCKET.
func notifyService(t *testing.T, readyAfter time.Duration, pings int) config.Service {
	svc := roleService(t, "sidekiq", "notify", map[string]string{
		"READY_AFTER": readyAfter.String(), "PINGS": strconv.Itoa(pings), "PING_EVERY": "100ms",
	})
	svc.Notify = true
	svc.WatchdogAction = config.ActionRestart
	svc.RestartDelay, svc.RestartDelayMax = config.Duration(time.Hour), config.Duration(time.Hour)
	return svc
}

// notifyConfig runs svc with a short cycle, so that a cycle observes the process while
// the service waits for READY=1.
func notifyConfig(t *testing.T, svc config.Service) *config.Config {
	return &config.Config{Interval: config.Duration(50 * time.Millisecond), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
}

// A service with notify stays starting until READY=1, is alive while it sends
// WATCHDOG=1, and is restarted when the pings stop.
func TestNotifyReadyAndWatchdog(t *testing.T) {
	svc := notifyService(t, 300*time.Millisecond, 5)
	svc.Watchdog = config.Duration(500 * time.Millisecond)
	h := startHarnessConfig(t, notifyConfig(t, svc), true)

	h.waitService(t, "sidekiq", "wait for READY=1", func(s ServiceStatus) bool {
		return s.State == StateStarting && strings.Contains(s.Reason, "READY=1")
	})
	first := h.waitService(t, "sidekiq", "READY=1", func(s ServiceStatus) bool { return s.State == StateRunning })
	if first.Reason != "READY=1 received" {
		t.Errorf("reason %q, want READY=1 received", first.Reason)
	}
	time.Sleep(400 * time.Millisecond) // Pings keep it alive past the watchdog interval.
	if n := h.alerts.count(alert.KindWatchdog); n != 0 {
		t.Errorf("%d watchdog events while the service pinged", n)
	}

	st := h.waitService(t, "sidekiq", "watchdog restart", func(s ServiceStatus) bool {
		return len(s.History) == 1 && s.PID != first.PID && s.PID != 0
	})
	if !strings.Contains(st.History[0].Trigger, "watchdog") {
		t.Errorf("restart trigger %q, want the watchdog", st.History[0].Trigger)
	}
	if ev, ok := h.alerts.find(alert.KindWatchdog, ""); !ok || ev.Action != "restart" {
		t.Errorf("watchdog event %+v (found %v), want action restart", ev, ok)
	}
	if alive(first.PID) {
		t.Errorf("PID %d still alive after the watchdog restart", first.PID)
	}
}

// A service with notify that never sends READY=1 fails its start after start_timeout.
func TestNotifyStartTimeout(t *testing.T) {
	svc := notifyService(t, time.Hour, 0)
	svc.StartTimeout = config.Duration(300 * time.Millisecond)
	h := startHarnessConfig(t, notifyConfig(t, svc), true)

	st := h.waitService(t, "sidekiq", "start timeout", func(s ServiceStatus) bool { return len(s.History) >= 1 })
	if !strings.Contains(st.History[0].Trigger, "no READY=1") {
		t.Errorf("restart trigger %q, want the start timeout", st.History[0].Trigger)
	}
	if _, ok := h.alerts.find(alert.KindStartTimeout, ""); !ok {
		t.Error("no start_timeout event")
	}
}

// After a restart of the supervisor, an owned service that kept running is adopted,
// not started twice, its history is intact, and its exit is still noticed at once.
func TestAdoptOwnedAfterRestart(t *testing.T) {
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{ownedService("worker", "sleep", "1000")}}
	h1 := startHarnessConfig(t, cfg, false)
	first := h1.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	kept := h1.waitService(t, "worker", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != first.PID && s.PID != 0
	})
	t.Cleanup(func() { _ = syscall.Kill(kept.PID, syscall.SIGKILL) })
	h1.stop()
	if !alive(kept.PID) {
		t.Fatalf("PID %d ended with the supervisor, want it kept running", kept.PID)
	}

	h2 := startHarnessConfig(t, cfg, true)
	st := h2.service(t, "worker")
	if st.PID != kept.PID || st.State != StateRunning {
		t.Fatalf("after restart: PID %d, state %s; want PID %d adopted and running", st.PID, st.State, kept.PID)
	}
	if len(st.History) != 1 || st.History[0].Exit == nil || st.History[0].Exit.PID != first.PID {
		t.Errorf("history %+v, want the one restart after PID %d", st.History, first.PID)
	}
	if n := countProcesses(t, "sleep 1000", cfg.StateDir); n != 1 {
		t.Errorf("%d instances run, want 1", n)
	}

	if err := syscall.Kill(kept.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st = h2.waitService(t, "worker", "restart of the adopted process", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != kept.PID && s.PID != 0
	})
	if len(st.History) != 2 || st.History[1].Exit == nil || st.History[1].Exit.PID != kept.PID {
		t.Errorf("history %+v, want a second restart after PID %d", st.History, kept.PID)
	}
}

// An owned process that rewrote its environment, as redis-server does to show its
// process title, no longer carries the mark: the state file's PID and start time
// still identify it, and it is adopted rather than started twice.
func TestAdoptOwnedWithoutMark(t *testing.T) {
	redis := testenv.LookPath(t, "redis-server", "apt-get install redis-server")
	port := testenv.FreePort(t)
	svc := ownedService("cache", redis, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
	h1 := startHarnessConfig(t, cfg, false)
	first := h1.waitService(t, "cache", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	t.Cleanup(func() { _ = syscall.Kill(first.PID, syscall.SIGKILL) })
	if !testenv.WaitTCP(testenv.Context(t, time.Minute), testenv.Addr(port)) {
		t.Fatalf("redis-server does not listen on port %d", port)
	}
	if marked := markedProcesses("/proc", cfg.StateDir, "cache"); slices.Contains(marked, first.PID) {
		t.Fatalf("redis-server PID %d still shows its mark; the test needs a process that rewrote it", first.PID)
	}
	h1.stop()

	h2 := startHarnessConfig(t, cfg, true)
	st := h2.service(t, "cache")
	if st.PID != first.PID || st.State != StateRunning {
		t.Errorf("after restart: PID %d, state %s; want PID %d adopted and running", st.PID, st.State, first.PID)
	}
	if len(st.History) != 0 {
		t.Errorf("history %+v, want no restart", st.History)
	}
}

// A child that called setsid leads a process group of its own and keeps the mark. After
// a restart of the supervisor it is neither taken for the service nor stopped as an extra
// instance.
func TestAdoptOwnedKeepsSetsidChild(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "worker.pid")
	svc := ownedService("worker", "sh", "-c", "setsid sleep 1000 & echo $! > "+pidfile+"; exec sleep 1001")
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
	h1 := startHarnessConfig(t, cfg, false)
	first := h1.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	t.Cleanup(func() { _ = syscall.Kill(first.PID, syscall.SIGKILL) })
	var child int
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		child, _ = readPID(pidfile)
		return child != 0
	}) {
		t.Fatal("the service did not write its child's PID")
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	h1.stop()

	// Without the state file, the newest marked group leader, the child, would be the
	// first candidate.
	if err := os.Remove(filepath.Join(cfg.StateDir, "services.json")); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	h2 := startHarnessConfig(t, cfg, true)
	st := h2.service(t, "worker")
	if st.PID != first.PID {
		t.Errorf("after restart: PID %d, want the main process %d adopted", st.PID, first.PID)
	}
	time.Sleep(100 * time.Millisecond) // A stop of an extra instance runs off the loop.
	if !alive(child) {
		t.Errorf("the child %d that called setsid was stopped as an extra instance", child)
	}
}

// countProcesses counts the live processes marked with stateDir whose command line is
// cmdline.
func countProcesses(t *testing.T, cmdline, stateDir string) int {
	t.Helper()
	snap, err := checks.ReadSnapshotWith("/proc", checks.SnapshotOptions{Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, pid := range markedProcesses("/proc", stateDir, "worker") {
		if p, ok := snap.Alive(pid, 0); ok && strings.TrimSpace(p.Cmdline) == cmdline {
			n++
		}
	}
	return n
}

// A pidfile rewritten to name a process of another program is not a reload: that
// process is never taken for the service nor signalled, and the service is restarted.
func TestPidfileOtherProgramNotFollowed(t *testing.T) {
	svc := pidfileService(t, "redis")
	h := startHarness(t, time.Hour, svc)
	old := h.waitService(t, "redis", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

	bystander := exec.Command("tail", "-f", "/dev/null")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bystander.Process.Kill()
		_ = bystander.Wait()
	})
	time.Sleep(20 * time.Millisecond) // The pidfile must be newer than the process.
	if err := os.WriteFile(svc.Pidfile, []byte(strconv.Itoa(bystander.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(old.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	st := h.waitService(t, "redis", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && len(s.History) == 1
	})
	if st.PID == bystander.Process.Pid {
		t.Errorf("the service's PID is the bystander's %d", st.PID)
	}
	if !alive(bystander.Process.Pid) {
		t.Errorf("the bystander PID %d was killed", bystander.Process.Pid)
	}
	if _, ok := h.alerts.find(alert.KindPIDChanged, ""); ok {
		t.Error("pid_changed event for a process of another program")
	}
}

// When the stop program fails, the process still gets its stop signal, and the chance
// to stop cleanly, before SIGKILL.
func TestFailedStopProgramSendsSignal(t *testing.T) {
	svc := pidfileService(t, "db")
	marker := filepath.Join(t.TempDir(), "term")
	svc.Start = []string{"sh", "-c", "sh -c 'trap \"echo term > " + marker + "; exit 0\" TERM; " +
		"while :; do sleep 0.05; done' >/dev/null 2>&1 & echo $! > " + svc.Pidfile}
	svc.Stop = []string{"false"}
	svc.StopTimeout = config.Duration(10 * time.Second)
	h := startHarness(t, time.Hour, svc)
	h.waitService(t, "db", "start", func(s ServiceStatus) bool { return s.State == StateRunning })

	if err := h.sup.Control(testenv.Context(t, time.Minute), "db", CommandStop, "test"); err != nil {
		t.Fatal(err)
	}
	h.waitService(t, "db", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the process did not receive SIGTERM after the stop program failed: %v", err)
	}
}

// A stop at shutdown notices the exit of an adopted process, as it does a child's,
// instead of waiting out the stop timeout.
func TestShutdownStopsAdoptedProcess(t *testing.T) {
	svc := ownedService("worker", "sleep", "1000")
	svc.StopTimeout = config.Duration(time.Minute)
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{svc}}
	h1 := startHarnessConfig(t, cfg, false)
	pid := h1.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning }).PID
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	h1.stop()

	h2 := startHarnessConfig(t, cfg, true)
	if st := h2.service(t, "worker"); st.PID != pid {
		t.Fatalf("PID %d after the restart, want %d adopted", st.PID, pid)
	}
	stopped := make(chan struct{})
	go func() {
		h2.stop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second):
		t.Fatal("shutdown still waits 30s after SIGTERM to an adopted sleep, which ends at once")
	}
	if alive(pid) {
		t.Errorf("adopted PID %d alive after shutdown", pid)
	}
}

// An owned process that ended while no tend ran is alerted as a failure of its process
// check by the next run, which starts it again.
func TestExitWhileDownAlerted(t *testing.T) {
	cfg := &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", StateDir: t.TempDir(),
		Services: []config.Service{ownedService("worker", "sleep", "1000")}}
	h1 := startHarnessConfig(t, cfg, false)
	pid := h1.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning }).PID
	h1.stop()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return !alive(pid) })

	h2 := startHarnessConfig(t, cfg, true)
	st := h2.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
	if st.PID == pid {
		t.Fatalf("PID %d still the service's", pid)
	}
	ev, ok := h2.alerts.find(alert.KindFailed, "process")
	if !ok || !strings.Contains(ev.Message, fmt.Sprintf("PID %d, started by the previous run of tend", pid)) {
		t.Errorf("failed event %+v (found %v), want it to name PID %d", ev, ok, pid)
	}
}
