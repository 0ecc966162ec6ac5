package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/internal/testenv"
)

// reloadTree is a configuration directory for reload tests: tend.toml with a 1 s cycle,
// no mail, so that alerts are only logged, a control socket of its own, and drop-ins
// in conf.d.
type reloadTree struct {
	dir string
}

func newReloadTree(t *testing.T) reloadTree {
	t.Helper()
	tr := reloadTree{dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(tr.dir, "conf.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tr.main(), `interval = "1s"
state_dir = "state"
include = ["conf.d/*.toml"]
hostname = "e2e-host"

[control]
socket = "tend.sock"
group = "root"
`)
	return tr
}

func (tr reloadTree) main() string { return filepath.Join(tr.dir, "tend.toml") }

func (tr reloadTree) pidfile(name string) string { return filepath.Join(tr.dir, name+".pid") }

func (tr reloadTree) dropIn(name string) string { return filepath.Join(tr.dir, "conf.d", name+".toml") }

// writeSleeper writes the drop-in of an owned service that records its PID in its
// pidfile and sleeps for seconds. The extra lines go into the [[service]] table.
func (tr reloadTree) writeSleeper(t *testing.T, name string, seconds int, extra string) {
	t.Helper()
	mustWrite(t, tr.dropIn(name), fmt.Sprintf(`[[service]]
name = %q
command = ["sh", "-c", "echo $$ > %s; exec sleep %d"]
stop_timeout = "2s"
%s`, name, tr.pidfile(name), seconds, extra))
}

// countLines returns how often the daemon logged a line containing each of parts.
func (d *tendProcess) countLines(parts ...string) int {
	n := 0
	for line := range strings.Lines(d.out.String()) {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

// waitLines waits until the daemon logged more than before lines containing each of
// parts, and returns the last of them.
func (d *tendProcess) waitLines(t *testing.T, before int, parts ...string) string {
	t.Helper()
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return d.countLines(parts...) > before }) {
		t.Fatalf("tend did not log a line with %q", parts)
	}
	var last string
	for line := range strings.Lines(d.out.String()) {
		if containsAll(line, parts) {
			last = line
		}
	}
	return last
}

// waitReloaded waits for the daemon's log line of an applied reload after before
// earlier ones, and returns it.
func (d *tendProcess) waitReloaded(t *testing.T, before int) string {
	t.Helper()
	return d.waitLines(t, before, `msg="configuration reloaded"`)
}

func (d *tendProcess) reloads() int { return d.countLines(`msg="configuration reloaded"`) }

func pidAlive(pid int) bool { return syscall.Kill(pid, 0) == nil && !isZombie(pid) }

func isZombie(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the command name, which is in parentheses.
	rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
	return strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// Dropping, removing and editing drop-ins changes the running services without a
// restart of tend: the added one starts, the removed one keeps running unmonitored,
// the one whose rules changed keeps its PID, and the one whose command changed restarts.
func TestReloadDropIns(t *testing.T) {
	tr := newReloadTree(t)
	tr.writeSleeper(t, "keep", 1000, "")
	tr.writeSleeper(t, "drop", 1001, "")
	tr.writeSleeper(t, "tune", 1002, "")
	tr.writeSleeper(t, "swap", 1003, "")
	d := startTend(t, tr.main())
	pids := map[string]int{}
	for _, name := range []string{"keep", "drop", "tune", "swap"} {
		pids[name] = waitPidfile(t, tr.pidfile(name), 0)
	}
	t.Cleanup(func() { _ = syscall.Kill(pids["drop"], syscall.SIGKILL) })

	before := d.reloads()
	if err := os.Remove(tr.dropIn("drop")); err != nil {
		t.Fatal(err)
	}
	tr.writeSleeper(t, "tune", 1002, "restart_limit = { restarts = 2, cycles = 9 }\n")
	tr.writeSleeper(t, "swap", 1004, "")
	tr.writeSleeper(t, "add", 1005, `depends_on = ["keep"]`+"\n")
	// An editor's swap file, which no glob matches, must not matter.
	mustWrite(t, filepath.Join(tr.dir, "conf.d", ".add.toml.swp"), "not TOML")
	line := d.waitReloaded(t, before)
	t.Logf("reload log line: %s", line)

	added := waitPidfile(t, tr.pidfile("add"), 0)
	swapped := waitPidfile(t, tr.pidfile("swap"), pids["swap"])
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return !pidAlive(pids["swap"]) }) {
		t.Errorf("old process %d of the restarted service is still alive", pids["swap"])
	}
	for _, name := range []string{"keep", "tune", "drop"} {
		if !pidAlive(pids[name]) {
			t.Errorf("service %s: PID %d no longer alive after the reload", name, pids[name])
		}
	}
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		st := readState(t, tr.dir)
		_, dropped := st.Services["drop"]
		return !dropped && st.Services["add"].PID == added && st.Services["swap"].PID == swapped
	}) {
		t.Errorf("state file = %+v, want no drop, add with PID %d, swap with PID %d",
			readState(t, tr.dir).Services, added, swapped)
	}
	st := readState(t, tr.dir)
	for _, name := range []string{"keep", "tune"} {
		if st.Services[name].PID != pids[name] {
			t.Errorf("state file: %s has PID %d, want %d unchanged", name, st.Services[name].PID, pids[name])
		}
	}
	if !strings.Contains(line, "restarted=[swap]") || !strings.Contains(line, "added=[add]") ||
		!strings.Contains(line, "removed=[drop]") || !strings.Contains(line, "updated=[tune]") {
		t.Errorf("reload log line %q does not list added add, removed drop, updated tune and restarted swap", line)
	}
}

// A broken drop-in is rejected with its file, line and key, the running configuration
// stays in force, and tend goes on restarting a killed service.
func TestReloadBrokenDropInRejected(t *testing.T) {
	tr := newReloadTree(t)
	tr.writeSleeper(t, "keep", 1000, "")
	d := startTend(t, tr.main())
	pid := waitPidfile(t, tr.pidfile("keep"), 0)

	rejected := d.countLines("reload rejected")
	bad := tr.dropIn("bad")
	mustWrite(t, bad, "[[service]]\nname = \"bad\"\ncolour = \"red\"\ncommand = [\"sleep\", \"1\"]\n")
	line := d.waitLines(t, rejected, "reload rejected")
	if want := bad + `:3: service \"bad\" colour`; !strings.Contains(line, want) {
		t.Errorf("rejection log line %q does not contain %q", line, want)
	}
	// Without [mail], the alert pipeline logs each event with its kind.
	d.waitLines(t, 0, "kind=reload_rejected")

	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	next := waitPidfile(t, tr.pidfile("keep"), pid)
	t.Logf("keep restarted after the rejected reload: PID %d replaced PID %d", next, pid)
	if _, err := os.Stat(tr.pidfile("bad")); err == nil {
		t.Errorf("the rejected service bad ran")
	}
}

// A drop-in that others may write is rejected with its mode named, because tend runs
// its command as root.
func TestReloadWritableDropInRejected(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("tend checks the modes of configuration files only when it runs as root")
	}
	tr := newReloadTree(t)
	tr.writeSleeper(t, "keep", 1000, "")
	d := startTend(t, tr.main())
	waitPidfile(t, tr.pidfile("keep"), 0)

	rejected := d.countLines("reload rejected")
	tr.writeSleeper(t, "open", 1001, "")
	if err := os.Chmod(tr.dropIn("open"), 0o666); err != nil {
		t.Fatal(err)
	}
	line := d.waitLines(t, rejected, "reload rejected", "mode 0666 is writable by group or others")
	if !strings.Contains(line, tr.dropIn("open")) {
		t.Errorf("rejection log line %q does not name %s", line, tr.dropIn("open"))
	}

	// Once the mode is fixed, the next change applies the drop-in.
	before := d.reloads()
	if err := os.Chmod(tr.dropIn("open"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.waitReloaded(t, before)
	waitPidfile(t, tr.pidfile("open"), 0)
}

// SIGHUP reloads the configuration.
func TestReloadOnSIGHUP(t *testing.T) {
	tr := newReloadTree(t)
	tr.writeSleeper(t, "keep", 1000, "")
	d := startTend(t, tr.main())
	waitPidfile(t, tr.pidfile("keep"), 0)

	before := d.reloads()
	requested := d.countLines(`msg="reload requested"`, "by=SIGHUP")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLines(t, requested, `msg="reload requested"`, "by=SIGHUP")
	d.waitReloaded(t, before)
}

// A [[service.alert]] entry added by a reload takes the service's next alert, and a
// [mail] table added by a reload turns on mail, without a restart of tend.
func TestReloadAlertRoutes(t *testing.T) {
	mp := testenv.StartMailpit(t)
	tr := newReloadTree(t)
	tr.writeSleeper(t, "app", 1000, "")
	d := startTend(t, tr.main())
	pid := waitPidfile(t, tr.pidfile("app"), 0)

	before := d.reloads()
	main, err := os.ReadFile(tr.main())
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, tr.main(), string(main)+fmt.Sprintf(`
[alerts]
digest_window = "0s"

[mail]
host = "127.0.0.1"
port = %d
tls = "none"
from = "tend@e2e.test"
to = ["ops@e2e.test"]
`, mp.SMTPPort))
	tr.writeSleeper(t, "app", 1000, `
[[service.alert]]
to = ["dev@e2e.test"]
events = ["failed"]
`)
	d.waitReloaded(t, before)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitPidfile(t, tr.pidfile("app"), pid)
	ctx := testenv.Context(t, time.Minute)
	if !testenv.WaitFor(ctx, func() bool {
		var ops, dev bool
		for _, m := range mp.Messages(t) {
			for _, to := range m.To {
				ops = ops || to.Address == "ops@e2e.test" && strings.Contains(m.Subject, "app failed")
				dev = dev || to.Address == "dev@e2e.test" && strings.Contains(m.Subject, "app failed")
			}
		}
		return ops && dev
	}) {
		t.Fatalf("no failure mail to both ops and dev; messages: %+v", mp.Messages(t))
	}
}
