package supervisor

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/config"
	"tend/internal/testenv"
)

// reloadConfig returns a configuration with an hour-long cycle and services.
func reloadConfig(services ...config.Service) *config.Config {
	return &config.Config{Interval: config.Duration(time.Hour), Hostname: "test", Services: services}
}

// runningPID waits until the named service runs and returns its PID.
func (h *harness) runningPID(t *testing.T, name string) int {
	t.Helper()
	st := h.waitService(t, name, "run", func(s ServiceStatus) bool { return s.State == StateRunning && s.PID != 0 })
	return st.PID
}

// names returns the names of the services in the status, in order.
func (h *harness) names(t *testing.T) []string {
	t.Helper()
	st, err := h.sup.Status(testenv.Context(t, time.Minute))
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	var names []string
	for _, s := range st {
		names = append(names, s.Name)
	}
	return names
}

// killAtEnd kills pid when the test ends, for a process that no supervisor stops.
func killAtEnd(t *testing.T, pid int) {
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
}

func checkList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("plan %s = %q, want %q", what, got, want)
	}
}

// A reload adds, removes, updates and restarts services, and the processes of the
// services it does not restart keep their PIDs.
func TestReloadAddRemoveChange(t *testing.T) {
	keep := ownedService("keep", "sleep", "1000")
	drop := ownedService("drop", "sleep", "1001")
	tune := ownedService("tune", "sleep", "1002")
	swap := ownedService("swap", "sleep", "1003")
	h := startHarnessConfig(t, reloadConfig(keep, drop, tune, swap), true)
	keepPID, dropPID := h.runningPID(t, "keep"), h.runningPID(t, "drop")
	tunePID, swapPID := h.runningPID(t, "tune"), h.runningPID(t, "swap")
	killAtEnd(t, dropPID)

	tuned := ownedService("tune", "sleep", "1002")
	tuned.RestartLimit = config.RestartLimit{Restarts: 2, Cycles: 9}
	tuned.Checks[0].ForCycles = 2
	swapped := ownedService("swap", "sleep", "1004")
	add := ownedService("add", "sleep", "1005")
	add.DependsOn = []string{"keep"}
	plan, err := h.sup.Reload(testenv.Context(t, time.Minute), reloadConfig(keep, tuned, swapped, add), false)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}

	checkList(t, "Added", plan.Added, []string{"add"})
	checkList(t, "Removed", plan.Removed, []string{"drop"})
	checkList(t, "Updated", plan.Updated, []string{"tune"})
	checkList(t, "Restarted", plan.Restarted, []string{"swap"})
	checkList(t, "Unchanged", plan.Unchanged, []string{"keep"})
	if got := h.names(t); !slices.Equal(got, []string{"keep", "tune", "swap", "add"}) {
		t.Errorf("services after reload = %q, want keep, tune, swap, add", got)
	}
	if pid := h.runningPID(t, "add"); pid == 0 || !alive(pid) {
		t.Errorf("added service: PID %d is not alive", pid)
	}
	newSwap := h.waitService(t, "swap", "restart", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID != 0 && s.PID != swapPID
	})
	if alive(swapPID) {
		t.Errorf("restarted service: old PID %d still alive", swapPID)
	}
	if len(newSwap.History) != 1 {
		t.Errorf("restarted service: %d restarts in history, want 1", len(newSwap.History))
	}
	for name, pid := range map[string]int{"keep": keepPID, "tune": tunePID} {
		if got := h.service(t, name).PID; got != pid {
			t.Errorf("service %s: PID %d after reload, want %d unchanged", name, got, pid)
		}
	}
	if !alive(dropPID) {
		t.Errorf("removed service: PID %d was stopped, want it left running", dropPID)
	}
}

// A reload that changes one rule of a service keeps the failures and open alerts of
// its unchanged rules, and closes the alert of the rule it changed.
func TestReloadKeepsUnchangedRules(t *testing.T) {
	bytes := func(text string, v float64) config.Limit {
		return config.Limit{Value: v, Unit: config.UnitBytes, Text: text}
	}
	rules := func(memory config.Limit) config.Service {
		svc := ownedService("app", "sleep", "1000")
		svc.Checks = append(svc.Checks,
			config.Check{Type: config.CheckMemory, ForCycles: 1, Action: config.ActionAlert, Limit: memory},
			config.Check{Type: config.CheckTotalMemory, ForCycles: 1, Action: config.ActionAlert, Limit: bytes("1B", 1)})
		return svc
	}
	cfg := reloadConfig(rules(bytes("1B", 1)))
	cfg.Interval = config.Duration(50 * time.Millisecond)
	h := startHarnessConfig(t, cfg, true)
	h.waitService(t, "app", "both rules failing", func(s ServiceStatus) bool {
		return s.State == StateRunning && len(s.Checks) == 3 && s.Checks[1].Failing && s.Checks[2].Failing
	})
	memory, total := h.service(t, "app").Checks[1].Name, h.service(t, "app").Checks[2].Name

	next := reloadConfig(rules(bytes("1GB", 1<<30)))
	next.Interval = cfg.Interval
	if _, err := h.sup.Reload(testenv.Context(t, time.Minute), next, false); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	// A few cycles under the new rules.
	time.Sleep(300 * time.Millisecond)
	st := h.service(t, "app")
	if !st.Checks[2].Failing {
		t.Errorf("unchanged rule %s not failing after the reload", total)
	}
	if n := h.alerts.countCheck(alert.KindFailed, total); n != 1 {
		t.Errorf("%d failed events for the unchanged rule %s, want 1", n, total)
	}
	ev, ok := h.alerts.find(alert.KindRecovered, memory)
	if !ok {
		t.Fatalf("no recovered event for the changed rule %s", memory)
	}
	if !strings.Contains(ev.Message, "changed or removed by a reload") {
		t.Errorf("recovered event message = %q, want it to name the reload", ev.Message)
	}
	if _, ok := h.alerts.find(alert.KindRecovered, total); ok {
		t.Errorf("recovered event for the unchanged rule %s, which still fails", total)
	}
}

// The exit of a removed owned service's process is reaped and changes nothing: the
// loop goes on and no service starts it again.
func TestReloadRemovedExitIgnored(t *testing.T) {
	keep := ownedService("keep", "sleep", "1000")
	drop := ownedService("drop", "sleep", "1001")
	h := startHarnessConfig(t, reloadConfig(keep, drop), true)
	dropPID := h.runningPID(t, "drop")
	killAtEnd(t, dropPID)

	if _, err := h.sup.Reload(testenv.Context(t, time.Minute), reloadConfig(keep), false); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if err := syscall.Kill(dropPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// A reaped process disappears from /proc; a zombie would stay until tend exits.
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(dropPID)))
		return err != nil
	}) {
		t.Fatalf("PID %d of the removed service was never reaped", dropPID)
	}
	if got := h.names(t); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("services after the exit = %q, want only keep", got)
	}
	if n := len(h.alerts.events); n != 0 {
		t.Errorf("%d events after the removed service exited, want none: %+v", n, h.alerts.events)
	}
}

// A service that an operator stopped stays stopped when a reload changes its command,
// and takes the new command at its next start.
func TestReloadHeldStaysStopped(t *testing.T) {
	worker := ownedService("worker", "sleep", "1000")
	h := startHarnessConfig(t, reloadConfig(worker), true)
	pid := h.runningPID(t, "worker")
	ctx := testenv.Context(t, time.Minute)
	if err := h.sup.Control(ctx, "worker", CommandStop, "test"); err != nil {
		t.Fatalf("Control stop: %v", err)
	}
	h.waitService(t, "worker", "stop", func(s ServiceStatus) bool { return s.State == StateStopped })

	changed := ownedService("worker", "sleep", "1001")
	plan, err := h.sup.Reload(ctx, reloadConfig(changed), false)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	checkList(t, "Deferred", plan.Deferred, []string{"worker"})
	checkList(t, "Restarted", plan.Restarted, nil)
	// Status goes through the loop, so every action the reload requested has started.
	st := h.service(t, "worker")
	if st.State != StateStopped || !st.Held || st.PID != 0 {
		t.Errorf("held service after reload: state %s, held %t, PID %d; want stopped, held, no PID",
			st.State, st.Held, st.PID)
	}

	if err := h.sup.Control(ctx, "worker", CommandStart, "test"); err != nil {
		t.Fatalf("Control start: %v", err)
	}
	next := h.runningPID(t, "worker")
	if next == pid {
		t.Errorf("started service: PID %d is the old process", next)
	}
	if args := cmdline(t, next); !slices.Equal(args, []string{"sleep", "1001"}) {
		t.Errorf("started service runs %q, want the new command sleep 1001", args)
	}
}

// A dry run returns the plan and changes nothing.
func TestReloadDryRunChangesNothing(t *testing.T) {
	keep := ownedService("keep", "sleep", "1000")
	swap := ownedService("swap", "sleep", "1001")
	h := startHarnessConfig(t, reloadConfig(keep, swap), true)
	keepPID, swapPID := h.runningPID(t, "keep"), h.runningPID(t, "swap")

	next := reloadConfig(ownedService("swap", "sleep", "1002"), ownedService("add", "sleep", "1003"))
	next.Interval = config.Duration(time.Minute)
	plan, err := h.sup.Reload(testenv.Context(t, time.Minute), next, true)
	if err != nil {
		t.Fatalf("Reload dry run: %v", err)
	}

	checkList(t, "Added", plan.Added, []string{"add"})
	checkList(t, "Removed", plan.Removed, []string{"keep"})
	checkList(t, "Restarted", plan.Restarted, []string{"swap"})
	checkList(t, "Settings", plan.Settings, []string{"interval"})
	if got := h.names(t); !slices.Equal(got, []string{"keep", "swap"}) {
		t.Errorf("services after a dry run = %q, want keep, swap", got)
	}
	for name, pid := range map[string]int{"keep": keepPID, "swap": swapPID} {
		if got := h.service(t, name).PID; got != pid {
			t.Errorf("service %s: PID %d after a dry run, want %d", name, got, pid)
		}
	}
}

// A new interval applies at once: the cycles that an hour-long interval would hold
// back run after the reload.
func TestReloadIntervalResetsTicker(t *testing.T) {
	var cycles atomic.Uint64
	onCycle := func(o *Options) { o.OnCycle = func(st CycleStats) { cycles.Store(st.Cycle) } }
	cfg := reloadConfig(ownedService("keep", "sleep", "1000"))
	h := startHarnessConfig(t, cfg, true, onCycle)

	next := reloadConfig(ownedService("keep", "sleep", "1000"))
	next.Interval = config.Duration(100 * time.Millisecond)
	next.StateDir = "/elsewhere"
	plan, err := h.sup.Reload(testenv.Context(t, time.Minute), next, false)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	checkList(t, "Settings", plan.Settings, []string{"interval"})
	checkList(t, "NeedsRestart", plan.NeedsRestart, []string{"state_dir"})
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return cycles.Load() >= 3 }) {
		t.Errorf("%d cycles after the interval became 100ms, want at least 3", cycles.Load())
	}
}

// A service that changes from owned to external has its old process stopped with the
// old configuration, and is then found through its pidfile.
func TestReloadOwnedBecomesExternal(t *testing.T) {
	svc := ownedService("db", "sleep", "1000")
	h := startHarnessConfig(t, reloadConfig(svc), true)
	oldPID := h.runningPID(t, "db")

	external := exec.Command("sleep", "1001")
	if err := external.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = external.Process.Kill()
		_ = external.Wait()
	})
	pidfile := filepath.Join(t.TempDir(), "db.pid")
	if err := os.WriteFile(pidfile, []byte(strconv.Itoa(external.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	changed := ownedService("db")
	changed.Command, changed.Pidfile = nil, pidfile
	changed.Checks[0].Action = config.ActionAlert

	plan, err := h.sup.Reload(testenv.Context(t, time.Minute), reloadConfig(changed), false)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	checkList(t, "Restarted", plan.Restarted, []string{"db"})
	st := h.waitService(t, "db", "adopt", func(s ServiceStatus) bool {
		return s.State == StateRunning && s.PID == external.Process.Pid
	})
	if st.Owned {
		t.Errorf("service db is owned after the reload, want external")
	}
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return !alive(oldPID) }) {
		t.Errorf("old owned process %d still alive", oldPID)
	}
}

// Reload after Run returned reports that the supervisor is not running.
func TestReloadAfterRun(t *testing.T) {
	h := startHarnessConfig(t, reloadConfig(ownedService("keep", "sleep", "1000")), true)
	h.stop()
	_, err := h.sup.Reload(testenv.Context(t, time.Minute), reloadConfig(), true)
	if !errors.Is(err, ErrNotRunning) {
		t.Errorf("Reload after Run = %v, want ErrNotRunning", err)
	}
}

// cmdline returns the command line of pid.
func cmdline(t *testing.T, pid int) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		t.Fatalf("read command line of PID %d: %v", pid, err)
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}
