package checks

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

	tests := []struct {
		name       string
		path       string
		wantPID    int
		wantStale  bool
		wantReason string
	}{
		{"live", write("live.pid", fmt.Sprintf("%d\n", self), now), self, false, ""},
		{"postmaster format", write("pm.pid", fmt.Sprintf("%d\n/data\n123\n", self), now), self, false, ""},
		{"missing", filepath.Join(dir, "none.pid"), 0, false, "not found"},
		{"garbage", write("bad.pid", "hello\n", now), 0, false, "does not contain a PID"},
		{"dead PID", write("dead.pid", "999999999\n", now), 0, false, "is not running"},
		// The pidfile was written long before this process started: the PID was reused.
		{"reused PID", write("old.pid", fmt.Sprintf("%d\n", self), now.Add(-48*time.Hour)), 0, true,
			"started after the pidfile was written"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := FindByPidfile(snap, tt.path)
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
			id := FindByPidfile(snap, path)
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
