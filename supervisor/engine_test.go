package supervisor

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/config"
	"tend/internal/testenv"
)

// A crash loop waits longer before each restart, up to the ceiling, instead of
// restarting as fast as the program fails.
func TestCrashLoopBackoff(t *testing.T) {
	svc := ownedService("crasher", "false")
	svc.RestartDelay = config.Duration(100 * time.Millisecond)
	svc.RestartDelayMax = config.Duration(200 * time.Millisecond)
	svc.StableAfter = config.Duration(time.Hour)
	svc.RestartLimit = config.RestartLimit{Restarts: 100, Cycles: 100}
	h := startHarness(t, time.Hour, svc)

	st := h.waitService(t, "crasher", "six restarts", func(s ServiceStatus) bool { return len(s.History) >= 6 })
	gaps := make([]time.Duration, 0, 5)
	for i := 1; i < 6; i++ {
		gaps = append(gaps, st.History[i].Time.Sub(st.History[i-1].Time))
	}
	// The first restart runs at once, the second after 100ms, then 200ms, the ceiling.
	want := []time.Duration{100, 200, 200, 200, 200}
	for i, g := range gaps {
		if g < want[i]*time.Millisecond {
			t.Errorf("gap %d between restarts = %s, want at least %dms", i+1, g, want[i])
		}
	}
	// Without the ceiling the fifth gap would be 1.6s.
	if gaps[4] > 1200*time.Millisecond {
		t.Errorf("gap 5 between restarts = %s, want about 200ms: the ceiling does not hold", gaps[4])
	}
	for i, r := range st.History {
		if r.Exit == nil || r.Exit.Code != 1 {
			t.Errorf("history %d exit = %+v, want exit code 1", i, r.Exit)
		}
	}
}

// A rule's request that arrives while a restart waits for its backoff delay, such as
// the start action of another check, neither starts the service at once nor counts
// another restart.
func TestBackoffDelayHolds(t *testing.T) {
	svc := ownedService("crasher", "sleep", "1000")
	svc.RestartDelay = config.Duration(time.Hour)
	svc.RestartDelayMax = config.Duration(time.Hour)
	svc.StableAfter = config.Duration(time.Hour)
	h := startHarness(t, time.Hour, svc)

	first := h.waitService(t, "crasher", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := h.waitService(t, "crasher", "restart at once", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != first.PID && s.PID != 0
	})
	if err := syscall.Kill(second.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waiting := h.waitService(t, "crasher", "delayed restart", func(s ServiceStatus) bool {
		return s.State == StateFailed && strings.Contains(s.Reason, "restart in 1h")
	})

	done := make(chan struct{})
	h.sup.calls <- func(ctx context.Context) {
		defer close(done)
		for _, svc := range h.sup.services {
			if svc.cfg.Name == "crasher" {
				h.sup.requestAction(ctx, svc, actionRequest{kind: actionRestart, trigger: "another rule"})
				h.sup.requestAction(ctx, svc, actionRequest{kind: actionStart, trigger: "another rule"})
			}
		}
	}
	<-done
	time.Sleep(100 * time.Millisecond)
	st := h.service(t, "crasher")
	if st.State != StateFailed || st.PID != 0 {
		t.Errorf("after a rule's request: state %s, PID %d; want failed, waiting for the delay", st.State, st.PID)
	}
	if !strings.Contains(st.Reason, "restart in 1h") {
		t.Errorf("reason %q, want the delayed restart still waiting", st.Reason)
	}
	if len(st.History) != len(waiting.History) {
		t.Errorf("%d restarts in history, want %d: the request counted a restart", len(st.History), len(waiting.History))
	}
}

// A service that stays up for stable_after restarts at once again after its next crash.
func TestBackoffResetWhenStable(t *testing.T) {
	svc := ownedService("flaky", "sleep", "1000")
	svc.RestartDelay = config.Duration(time.Hour)
	svc.RestartDelayMax = config.Duration(time.Hour)
	svc.StableAfter = config.Duration(200 * time.Millisecond)
	h := startHarness(t, time.Hour, svc)

	pid := h.waitService(t, "flaky", "start", func(s ServiceStatus) bool { return s.PID != 0 }).PID
	for range 3 {
		time.Sleep(300 * time.Millisecond) // Longer than stable_after.
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		old := pid
		pid = h.waitService(t, "flaky", "restart without delay", func(s ServiceStatus) bool {
			return s.PID != 0 && s.PID != old && s.State == StateRunning
		}).PID
	}
}

// An operator's stop holds: the process check does not start the service again, not
// even at the next cycles, until the operator starts it.
func TestStopHeldUntilStart(t *testing.T) {
	h := startHarness(t, 50*time.Millisecond, ownedService("worker", "sleep", "1000"))
	pid := h.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.PID != 0 }).PID
	ctx := testenv.Context(t, time.Minute)

	if err := h.sup.Control(ctx, "worker", CommandStop, "test"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	h.waitService(t, "worker", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })
	if alive(pid) {
		t.Errorf("PID %d alive after stop", pid)
	}
	time.Sleep(300 * time.Millisecond) // Six cycles.
	st := h.service(t, "worker")
	if st.State != StateStopped || st.PID != 0 || !st.Held {
		t.Errorf("after six cycles: state %s, PID %d, held %v; want stopped, 0, held", st.State, st.PID, st.Held)
	}

	if err := h.sup.Control(ctx, "worker", CommandStart, "test"); err != nil {
		t.Fatalf("start: %v", err)
	}
	st = h.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
	if st.Held {
		t.Error("still held after start")
	}
}

// Unmonitor leaves the process alone and stops observing it; monitor takes it back.
func TestUnmonitorAndMonitor(t *testing.T) {
	h := startHarness(t, 50*time.Millisecond, ownedService("worker", "sleep", "1000"))
	pid := h.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.PID != 0 }).PID
	ctx := testenv.Context(t, time.Minute)

	if err := h.sup.Control(ctx, "worker", CommandUnmonitor, "test"); err != nil {
		t.Fatalf("unmonitor: %v", err)
	}
	if st := h.service(t, "worker"); st.State != StateUnmonitored {
		t.Fatalf("state %s after unmonitor", st.State)
	}
	if !alive(pid) {
		t.Errorf("unmonitor ended PID %d", pid)
	}
	if err := h.sup.Control(ctx, "worker", CommandMonitor, "test"); err != nil {
		t.Fatalf("monitor: %v", err)
	}
	st := h.waitService(t, "worker", "monitor", func(s ServiceStatus) bool { return s.State == StateRunning })
	if st.PID != pid {
		t.Errorf("PID %d after monitor, want the same process %d", st.PID, pid)
	}
	if err := h.sup.Control(ctx, "nosuch", CommandStart, "test"); err == nil {
		t.Error("Control of an unknown service returned no error")
	}
}

// startOrderServices returns a database that writes its pidfile only after a while and a
// web service that depends on it. Both append their name to the file order when they
// start.
func startOrderServices(t *testing.T) (db, web config.Service, order string) {
	dir := t.TempDir()
	order = filepath.Join(dir, "order")
	pidfile := filepath.Join(dir, "db.pid")
	db = ownedService("db")
	db.Command = nil
	db.Pidfile = pidfile
	db.Start = []string{"sh", "-c", "sleep 0.3; echo db >> " + order + "; sleep 1000 >/dev/null 2>&1 & echo $! > " + pidfile}
	db.Stop = nil
	web = ownedService("web", "sh", "-c", "echo web >> "+order+"; exec sleep 1000")
	web.DependsOn = []string{"db"}
	t.Cleanup(func() {
		if pid, err := os.ReadFile(pidfile); err == nil {
			killPID(strings.TrimSpace(string(pid)))
		}
	})
	return db, web, order
}

func killPID(text string) {
	if pid, err := strconv.Atoi(text); err == nil && pid > 1 {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// A service starts only after the service it depends on runs, whatever the order of
// the configuration.
func TestDependencyStartOrder(t *testing.T) {
	db, web, order := startOrderServices(t)
	h := startHarness(t, time.Hour, web, db)
	h.waitService(t, "web", "start", func(s ServiceStatus) bool { return s.State == StateRunning })
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		data, _ := os.ReadFile(order)
		return strings.Count(string(data), "\n") >= 2
	})
	data, err := os.ReadFile(order)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "db\nweb\n" {
		t.Errorf("start order %q, want db before web", got)
	}
}

// A restart of a dependency restarts the services that depend on it, and a service
// whose dependency the operator stopped waits for it instead of starting.
func TestDependencyRestartAndWait(t *testing.T) {
	db, web, _ := startOrderServices(t)
	h := startHarness(t, time.Hour, db, web)
	dbPID := h.waitService(t, "db", "start", func(s ServiceStatus) bool { return s.State == StateRunning }).PID
	webPID := h.waitService(t, "web", "start", func(s ServiceStatus) bool { return s.State == StateRunning }).PID
	ctx := testenv.Context(t, time.Minute)

	if err := h.sup.Control(ctx, "db", CommandRestart, "test"); err != nil {
		t.Fatalf("restart db: %v", err)
	}
	dbSt := h.waitService(t, "db", "restart", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != dbPID })
	if n := len(dbSt.History); n != 1 || dbSt.History[0].Exit == nil || dbSt.History[0].Exit.PID != dbPID ||
		dbSt.History[0].Exit.Status != "stopped by tend" {
		t.Errorf("db history %+v, want the operator's restart with PID %d stopped by tend", dbSt.History, dbPID)
	}
	if ev, ok := h.alerts.find(alert.KindRestarted, ""); !ok || ev.Service != "db" || !strings.Contains(ev.Message, "requested by test") {
		t.Errorf("restarted event %+v, want one for db naming who asked", ev)
	}
	st := h.waitService(t, "web", "restart after db", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != webPID && s.PID != 0
	})
	if n := len(st.History); n != 1 || !strings.Contains(st.History[0].Trigger, "dependency db restarted") {
		t.Errorf("web history %+v, want one restart triggered by db", st.History)
	} else if e := st.History[0].Exit; e == nil || e.PID != webPID || e.Signal != int(syscall.SIGTERM) {
		t.Errorf("web restart exit %+v, want PID %d ended by SIGTERM", e, webPID)
	}

	if err := h.sup.Control(ctx, "db", CommandStop, "test"); err != nil {
		t.Fatalf("stop db: %v", err)
	}
	h.waitService(t, "db", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	h.waitService(t, "web", "wait for db", func(s ServiceStatus) bool {
		return s.State == StateFailed && strings.Contains(s.Reason, "waiting for db")
	})
	time.Sleep(200 * time.Millisecond)
	if st := h.service(t, "db"); st.State != StateStopped {
		t.Errorf("db state %s: a held service was started for its dependent", st.State)
	}
	if err := h.sup.Control(ctx, "db", CommandStart, "test"); err != nil {
		t.Fatalf("start db: %v", err)
	}
	h.waitService(t, "web", "start after db", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
}

// A failure that lasts is alerted once, then again at each reminder interval, never at
// each cycle.
func TestReminderWhileFailing(t *testing.T) {
	svc := ownedService("web", "sleep", "1000")
	svc.StartTimeout = config.Duration(time.Millisecond) // No start period for the probe.
	svc.Checks = append(svc.Checks, config.Check{
		Type: config.CheckTCP, Address: testenv.Addr(testenv.FreePort(t)), Timeout: config.Duration(time.Second),
		ForCycles: 1, Action: config.ActionAlert,
	})
	cfg := &config.Config{Interval: config.Duration(50 * time.Millisecond), Hostname: "test",
		Services: []config.Service{svc}, Alerts: config.Alerts{Reminder: config.Duration(400 * time.Millisecond)}}
	h := startHarnessConfig(t, cfg, true)

	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return h.alerts.count(alert.KindReminder) >= 2 })
	h.stop()
	if n := h.alerts.count(alert.KindFailed); n != 1 {
		t.Errorf("%d failed events, want 1", n)
	}
	if n := h.alerts.count(alert.KindReminder); n < 2 || n > 3 {
		t.Errorf("%d reminders, want 2 or 3 over about 800ms at a 400ms interval", n)
	}
	ev, _ := h.alerts.find(alert.KindReminder, "")
	if !strings.Contains(ev.Message, "failing since") {
		t.Errorf("reminder message %q does not say since when", ev.Message)
	}
}

// A crash loop slow enough for backoff to spread it over many cycles still reaches
// the restart limit: restarts in a row without staying up for stable_after count.
func TestSlowCrashLoopReachesLimit(t *testing.T) {
	// It lives for several cycles but never for stable_after, so no recovery is sent.
	svc := ownedService("flaky", "sh", "-c", "sleep 0.35; exit 1")
	svc.RestartDelay = config.Duration(50 * time.Millisecond)
	svc.RestartDelayMax = config.Duration(100 * time.Millisecond)
	svc.StableAfter = config.Duration(time.Hour)
	svc.RestartLimit = config.RestartLimit{Restarts: 3, Cycles: 1}
	h := startHarness(t, 100*time.Millisecond, svc)

	st := h.waitService(t, "flaky", "unmonitor", func(s ServiceStatus) bool { return s.State == StateUnmonitored })
	if len(st.History) != 3 {
		t.Errorf("%d restarts before the limit, want 3", len(st.History))
	}
	if n := h.alerts.count(alert.KindRestartLimit); n != 1 {
		t.Errorf("%d restart-limit events, want 1", n)
	}
	if n := h.alerts.count(alert.KindFailed); n != 1 {
		t.Errorf("%d failed events, want 1", n)
	}
	if n := h.alerts.count(alert.KindRecovered); n != 0 {
		t.Errorf("%d recovered events in a crash loop, want 0", n)
	}
}

// After a crash, the process check recovers once the new process stayed up for
// stable_after.
func TestRecoveryAfterStableAfter(t *testing.T) {
	svc := ownedService("worker", "sleep", "1000")
	svc.StableAfter = config.Duration(400 * time.Millisecond)
	h := startHarness(t, 50*time.Millisecond, svc)
	first := h.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.PID != 0 })
	if err := syscall.Kill(first.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st := h.waitService(t, "worker", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != first.PID && s.PID != 0
	})
	testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return h.alerts.count(alert.KindRecovered) > 0 })
	ev, ok := h.alerts.find(alert.KindRecovered, "process")
	if !ok {
		t.Fatal("no recovered event for the process check")
	}
	if up := ev.Time.Sub(st.Started); up < 400*time.Millisecond {
		t.Errorf("recovered %s after the restart, want at least stable_after (400ms)", up)
	}
}

// A stable_after longer than processRecovery does not hold the recovery back, so a
// crash after the process stayed up that long is alerted as a new incident.
func TestCrashAfterRecoveryAlertedAgain(t *testing.T) {
	saved := processRecovery
	processRecovery = 300 * time.Millisecond
	t.Cleanup(func() { processRecovery = saved })
	svc := ownedService("worker", "sleep", "1000")
	svc.StableAfter = config.Duration(time.Hour)
	h := startHarness(t, 50*time.Millisecond, svc)
	ctx := testenv.Context(t, time.Minute)
	pid := h.waitService(t, "worker", "start", func(s ServiceStatus) bool { return s.PID != 0 }).PID
	for crash := 1; crash <= 2; crash++ {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		old := pid
		pid = h.waitService(t, "worker", "restart", func(s ServiceStatus) bool {
			return s.State == StateRunning && s.PID != old && s.PID != 0
		}).PID
		if !testenv.WaitFor(ctx, func() bool { return h.alerts.count(alert.KindRecovered) == crash }) {
			t.Fatalf("crash %d: no recovery after the process stayed up", crash)
		}
	}
	if n := h.alerts.count(alert.KindFailed); n != 2 {
		t.Errorf("%d failure alerts for two crashes apart, want 2", n)
	}
}

// A failure alerted before tend restarted is not alerted again by the next run, whose
// recovery alert closes it.
func TestFailureAlertSurvivesRestart(t *testing.T) {
	port := testenv.FreePort(t)
	svc := ownedService("web", "sleep", "1000")
	svc.StartTimeout = config.Duration(time.Millisecond) // No start period for the probe.
	svc.Checks = append(svc.Checks, config.Check{
		Type: config.CheckTCP, Address: testenv.Addr(port), Timeout: config.Duration(time.Second),
		ForCycles: 1, Action: config.ActionAlert,
	})
	cfg := &config.Config{Interval: config.Duration(50 * time.Millisecond), Hostname: "test",
		StateDir: t.TempDir(), Services: []config.Service{svc}}
	h := startHarnessConfig(t, cfg, false)
	ctx := testenv.Context(t, time.Minute)
	testenv.WaitFor(ctx, func() bool { return h.alerts.count(alert.KindFailed) == 1 })
	h.stop()

	h2 := startHarnessConfig(t, cfg, true)
	// Several cycles of the same failure pass without a second alert.
	h2.waitService(t, "web", "the check failing again", func(st ServiceStatus) bool {
		for _, c := range st.Checks {
			if c.Name == "tcp "+testenv.Addr(port) && c.Known && !c.OK && c.Failing {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond)
	if n := h2.alerts.count(alert.KindFailed); n != 0 {
		t.Errorf("%d failure alerts after the restart, want none", n)
	}
	ln, err := net.Listen("tcp", testenv.Addr(port))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if !testenv.WaitFor(ctx, func() bool { return h2.alerts.count(alert.KindRecovered) == 1 }) {
		t.Fatal("no recovery alert after the restart")
	}
}

// A check that keeps changing between failing and passing sends its first alerts,
// then one flapping alert and nothing more until it keeps one state for the window.
func TestFlappingCheckHoldsAlerts(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "up")
	svc := config.Service{Name: "flappy", Checks: []config.Check{{
		Type: config.CheckProgram, Command: []string{"test", "-e", flag},
		Timeout: config.Duration(time.Second), ForCycles: 1, Action: config.ActionAlert,
	}}}
	window := 1500 * time.Millisecond
	cfg := &config.Config{Interval: config.Duration(50 * time.Millisecond), Hostname: "test",
		Services: []config.Service{svc},
		Alerts:   config.Alerts{FlapChanges: 4, FlapWindow: config.Duration(window)}}
	h := startHarnessConfig(t, cfg, true)
	ctx := testenv.Context(t, time.Minute)

	// Eight changes, 150 ms apart: well within the window.
	for i := range 8 {
		if i%2 == 0 {
			if err := os.WriteFile(flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		} else if err := os.Remove(flag); err != nil {
			t.Fatal(err)
		}
		time.Sleep(150 * time.Millisecond)
	}
	if !testenv.WaitFor(ctx, func() bool { return h.alerts.count(alert.KindFlapping) == 1 }) {
		t.Fatal("no flapping alert")
	}
	// The flag is gone, so the check fails from now on and settles as failing.
	if !testenv.WaitFor(ctx, func() bool { return h.alerts.count(alert.KindFlapEnded) == 1 }) {
		t.Fatal("no alert when the check settled")
	}
	h.stop()
	changes := h.alerts.count(alert.KindFailed) + h.alerts.count(alert.KindRecovered)
	if changes != 3 {
		t.Errorf("%d failure and recovery alerts, want the 3 before the check flapped", changes)
	}
	if ev, _ := h.alerts.find(alert.KindFlapEnded, ""); ev.Observed != "failing" {
		t.Errorf("settled alert says %q, want failing", ev.Observed)
	}
}
