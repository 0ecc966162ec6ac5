package checks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFindByPidfile(t *testing.T) {
	dir := t.TempDir()
	snap, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	write := func(name, content string, mtime time.Time) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	now := time.Now()
	kthread := 0
	for _, p := range snap.Processes {
		if p.KernelThread() {
			kthread = p.PID
			break
		}
	}
	if kthread == 0 {
		t.Fatal("no kernel thread in /proc")
	}

	tests := []struct {
		name       string
		path       string
		exclude    int
		wantPID    int
		wantStale  bool
		wantReason string
	}{
		{"live", write("live.pid", fmt.Sprintf("%d\n", self), now), 0, self, false, ""},
		{"postmaster format", write("pm.pid", fmt.Sprintf("%d\n/data\n123\n", self), now), 0, self, false, ""},
		{"missing", filepath.Join(dir, "none.pid"), 0, 0, false, "not found"},
		{"garbage", write("bad.pid", "hello\n", now), 0, 0, false, "does not contain a PID"},
		{"dead PID", write("dead.pid", "999999999\n", now), 0, 0, false, "is not running"},
		// The pidfile was written long before this process started: the PID was reused.
		{"reused PID", write("old.pid", fmt.Sprintf("%d\n", self), now.Add(-48*time.Hour)), 0, 0, true,
			"started after the pidfile was written"},
		{"tend itself", write("self.pid", fmt.Sprintf("%d\n", self), now), self, 0, true, "tend itself"},
		{"init", write("init.pid", "1\n", now), 0, 0, true, "the init process"},
		{"kernel thread", write("kthread.pid", fmt.Sprintf("%d\n", kthread), now), 0, 0, true, "a kernel thread"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := FindByPidfile(snap, tt.path, tt.exclude)
			gotPID := 0
			if id.Process != nil {
				gotPID = id.Process.PID
			}
			if gotPID != tt.wantPID {
				t.Errorf("FindByPidfile(%s): PID %d, want %d (reason %q)", tt.path, gotPID, tt.wantPID, id.Reason)
			}
			if id.Stale != tt.wantStale {
				t.Errorf("FindByPidfile(%s): Stale = %v, want %v", tt.path, id.Stale, tt.wantStale)
			}
			if !strings.Contains(id.Reason, tt.wantReason) {
				t.Errorf("FindByPidfile(%s): Reason = %q, want it to contain %q", tt.path, id.Reason, tt.wantReason)
			}
		})
	}
}

func TestFindByPidfileZombie(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait() //nolint:errcheck // reaps the zombie at the end
	path := filepath.Join(t.TempDir(), "z.pid")
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", cmd.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		snap, err := ReadSnapshot("/proc")
		if err != nil {
			t.Fatal(err)
		}
		if p := snap.Processes[cmd.Process.Pid]; p != nil && p.Zombie() {
			id := FindByPidfile(snap, path, 0)
			if id.Process != nil || !strings.Contains(id.Reason, "zombie") {
				t.Fatalf("FindByPidfile on a zombie = %+v, want no process and a zombie reason", id)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("child never became a zombie")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFindByMatchProcesses(t *testing.T) {
	marker := fmt.Sprintf("tend-match-%d-%d", os.Getpid(), time.Now().UnixNano())
	var pids []int
	for i := range 3 {
		pids = append(pids, startRole(t, "sleep", 0, marker, strconv.Itoa(i)).Process.Pid)
	}
	snap, err := ReadSnapshotWith("/proc", SnapshotOptions{Cmdline: true})
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(regexp.QuoteMeta(marker))

	// The processes started one after another, so the first is the oldest: by start
	// tick, or by the lower PID when two started in the same tick.
	tests := []struct {
		name       string
		re         *regexp.Regexp
		newest     bool
		exclude    int
		wantPID    int
		wantReason string
	}{
		{"oldest", re, false, os.Getpid(), pids[0],
			fmt.Sprintf("3 processes match %q; picked PID %d, the oldest", re, pids[0])},
		{"newest", re, true, os.Getpid(), pids[2],
			fmt.Sprintf("3 processes match %q; picked PID %d, the newest", re, pids[2])},
		{"exclude oldest", re, false, pids[0], pids[1],
			fmt.Sprintf("2 processes match %q; picked PID %d, the oldest", re, pids[1])},
		{"one match", regexp.MustCompile(regexp.QuoteMeta(marker) + " 1$"), false, 0, pids[1], ""},
		{"no match", regexp.MustCompile(marker + "-none"), false, 0, 0,
			fmt.Sprintf("no process matches %q", marker+"-none")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := FindByMatch(snap, tt.re, tt.newest, tt.exclude)
			gotPID := 0
			if id.Process != nil {
				gotPID = id.Process.PID
			}
			if gotPID != tt.wantPID {
				t.Errorf("FindByMatch(%q): PID %d, want %d (reason %q)", tt.re, gotPID, tt.wantPID, id.Reason)
			}
			if id.Reason != tt.wantReason {
				t.Errorf("FindByMatch(%q): Reason = %q, want %q", tt.re, id.Reason, tt.wantReason)
			}
		})
	}

	plain, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatal(err)
	}
	if id := FindByMatch(plain, re, false, 0); id.Process != nil || !strings.Contains(id.Reason, "without command lines") {
		t.Errorf("FindByMatch on a snapshot without command lines = %+v, want no process and a reason", id)
	}
}

// TestFindByMatchSkips checks on a hand-made snapshot that zombies, kernel threads and
// the excluded PID never match, and that ties in start time go by PID.
func TestFindByMatchSkips(t *testing.T) {
	snap := &Snapshot{Options: SnapshotOptions{Cmdline: true}, Processes: map[int]*Process{
		5:  {PID: 5, State: 'Z', StartTicks: 1, Cmdline: "puma"},
		6:  {PID: 6, State: 'S', Flags: pfKthread, StartTicks: 1, Cmdline: "puma"},
		7:  {PID: 7, State: 'S', StartTicks: 1, Cmdline: "puma tend"},
		40: {PID: 40, State: 'S', StartTicks: 9, Cmdline: "puma 3"},
		30: {PID: 30, State: 'S', StartTicks: 9, Cmdline: "puma 2"},
		20: {PID: 20, State: 'R', StartTicks: 5, Cmdline: "puma 1"},
		50: {PID: 50, State: 'S', StartTicks: 2, Cmdline: "sidekiq"},
	}}
	re := regexp.MustCompile("puma")

	if id := FindByMatch(snap, re, false, 7); id.Process == nil || id.Process.PID != 20 {
		t.Errorf("FindByMatch oldest = %+v, want PID 20", id)
	}
	if id := FindByMatch(snap, re, true, 7); id.Process == nil || id.Process.PID != 40 {
		t.Errorf("FindByMatch newest = %+v, want PID 40, the higher PID of two started in tick 9", id)
	}
	delete(snap.Processes, 20)
	if id := FindByMatch(snap, re, false, 7); id.Process == nil || id.Process.PID != 30 {
		t.Errorf("FindByMatch oldest = %+v, want PID 30, the lower PID of two started in tick 9", id)
	}
	want := `3 processes match "puma"; picked PID 7, the oldest`
	if id := FindByMatch(snap, re, false, 0); id.Process == nil || id.Reason != want {
		t.Errorf("FindByMatch without exclude = %+v, want reason %q", id, want)
	}
}
