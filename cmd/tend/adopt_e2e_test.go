package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tend/checks"
	"tend/internal/testenv"
	"tend/supervisor/procwatch"
)

// stateFile is the part of tend's state file that these tests read.
type stateFile struct {
	Services map[string]struct {
		PID     int `json:"pid"`
		History []struct {
			Trigger string `json:"trigger"`
		} `json:"history"`
	} `json:"services"`
}

func readState(t *testing.T, dir string) stateFile {
	t.Helper()
	var st stateFile
	data, err := os.ReadFile(filepath.Join(dir, "state", "services.json"))
	if err != nil {
		t.Fatalf("read state file: %v", err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("parse state file: %v", err)
	}
	return st
}

// markedLive returns the live processes that tend marked as the service's under the
// state directory of dir.
func markedLive(dir, service string) []int {
	stateDir := filepath.Join(dir, "state")
	inDir := procwatch.Marked("/proc", "TEND_STATE_DIR", stateDir)
	var out []int
	for _, pid := range procwatch.Marked("/proc", "TEND_SERVICE", service) {
		p, err := checks.ReadProcess("/proc", pid)
		if err == nil && !p.Zombie() && p.PGID == p.PID && containsPID(inDir, pid) {
			out = append(out, pid)
		}
	}
	return out
}

func containsPID(pids []int, pid int) bool {
	for _, p := range pids {
		if p == pid {
			return true
		}
	}
	return false
}

// tend is killed with SIGKILL in the middle of a restart, while it waits for a process
// that ignores SIGTERM, and a new tend starts. Exactly one instance of the service
// runs, the new tend adopts it, and the restart history survives.
func TestKillTendMidRestart(t *testing.T) {
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()
	closed := testenv.Addr(testenv.FreePort(t))
	worker := `[[service]]
name = "worker"
command = ["sh", "-c", "trap '' TERM; exec sleep 1000"]
stop_timeout = "10s"
start_timeout = "1s"
`
	cfg := writeConfig(t, dir, mp, worker+fmt.Sprintf(`
[[service.check]]
type = "tcp"
address = %q
action = "restart"
`, closed))
	first := startTend(t, cfg)
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool {
		for line := range strings.Lines(first.out.String()) {
			if containsAll(line, []string{`msg="action started"`, "service=worker", "action=restart"}) {
				return true
			}
		}
		return false
	}) {
		t.Fatalf("tend did not start a restart; output:\n%s", first.out.String())
	}
	time.Sleep(200 * time.Millisecond) // Inside the stop timeout: the old process ignores SIGTERM.
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	before := readState(t, dir).Services["worker"]
	if len(before.History) != 1 {
		t.Fatalf("history before the restart of tend: %+v, want one restart", before.History)
	}
	pids := markedLive(dir, "worker")
	t.Cleanup(func() {
		for _, pid := range markedLive(dir, "worker") {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
		}
	})
	if len(pids) != 1 || pids[0] != before.PID {
		t.Fatalf("after kill -9 of tend: instances %v, state file PID %d; want the one recorded", pids, before.PID)
	}

	mustWrite(t, filepath.Join(dir, "conf.d", "services.toml"), worker)
	second := startTend(t, cfg)
	time.Sleep(2 * time.Second) // Two cycles.
	if pids := markedLive(dir, "worker"); len(pids) != 1 || pids[0] != before.PID {
		t.Errorf("after the restart of tend: instances %v, want only PID %d", pids, before.PID)
	}
	adopted := []string{`msg="adopted process started by an earlier run of tend"`, fmt.Sprintf("pid=%d", before.PID)}
	if !containsAll(second.out.String(), adopted) {
		t.Errorf("tend did not log the adoption of PID %d; output:\n%s", before.PID, second.out.String())
	}
	after := readState(t, dir).Services["worker"]
	if len(after.History) != 1 || after.History[0].Trigger != before.History[0].Trigger {
		t.Errorf("history after the restart of tend: %+v, want %+v", after.History, before.History)
	}
}

// A second tend on the same state directory refuses to start, so that no service is
// started twice.
func TestSecondTendRefused(t *testing.T) {
	mp := testenv.StartMailpit(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, mp, `[[service]]
name = "worker"
command = ["sleep", "1000"]
`)
	first := startTend(t, cfg)
	second := exec.Command(tendBinary, "run", "--config", cfg)
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("second tend: err %v, want exit status 1; output:\n%s", err, out)
	}
	want := fmt.Sprintf("another tend (PID %d) runs with state directory %s", first.cmd.Process.Pid,
		filepath.Join(dir, "state"))
	if !strings.Contains(string(out), want) {
		t.Errorf("second tend output:\n%s\nwant it to contain %q", out, want)
	}
	if pids := markedLive(dir, "worker"); len(pids) != 1 {
		t.Errorf("instances of worker: %v, want one", pids)
	}
}
