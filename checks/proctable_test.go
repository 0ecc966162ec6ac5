package checks

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestReadSnapshotSelf(t *testing.T) {
	s, err := ReadSnapshot("/proc")
	if err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	p, ok := s.Alive(os.Getpid(), 0)
	if !ok {
		t.Fatalf("Alive(%d): own process not found", os.Getpid())
	}
	if p.PPID != os.Getppid() {
		t.Errorf("PPID = %d, want %d", p.PPID, os.Getppid())
	}
	if p.RSS == 0 {
		t.Error("RSS = 0, want > 0")
	}
	if p.Threads < 1 {
		t.Errorf("Threads = %d, want >= 1", p.Threads)
	}
	if started := s.StartTime(p); time.Since(started) > time.Hour || started.After(time.Now()) {
		t.Errorf("StartTime = %v, not within the last hour", started)
	}
}

func TestReadStatCommandWithParens(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stat")
	line := "42 (a) b (c)) S 7 42 42 0 -1 4194560 1 0 0 0 150 50 0 0 20 0 3 0 9999 1000 25 " +
		"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := readStat(path, make([]byte, 0, 1024), 4096)
	if err != nil {
		t.Fatalf("readStat: %v", err)
	}
	want := Process{State: 'S', PPID: 7, PGID: 42, CPUTicks: 200, Threads: 3, StartTicks: 9999, RSS: 25 * 4096}
	if *p != want {
		t.Errorf("readStat = %+v, want %+v", *p, want)
	}
}

func TestUsageChildrenAndCPU(t *testing.T) {
	// A shell that runs a CPU-bound loop in a child and waits for it.
	cmd := exec.Command("sh", "-c", "sh -c 'while :; do :; done' & wait")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	var prev, cur *Snapshot
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s, err := ReadSnapshot("/proc")
		if err != nil {
			t.Fatal(err)
		}
		prev, cur = cur, s
		if prev != nil && len(cur.Descendants(cmd.Process.Pid)) == 1 &&
			cur.Usage(prev, cmd.Process.Pid, 1).TotalCPU > 50 {
			break
		}
		time.Sleep(200 * time.Millisecond) // The interval CPU is measured over.
	}
	kids := cur.Descendants(cmd.Process.Pid)
	if len(kids) != 1 {
		t.Fatalf("Descendants = %v, want one child", kids)
	}
	for _, k := range kids {
		_ = syscallKill(k)
	}
	u := cur.Usage(prev, cmd.Process.Pid, 1)
	if !u.CPUKnown {
		t.Fatal("CPUKnown = false on the second snapshot")
	}
	if u.TotalCPU < 50 {
		t.Errorf("TotalCPU = %.1f%% of one core for a busy child, want > 50%%", u.TotalCPU)
	}
	if u.CPU > 20 {
		t.Errorf("CPU = %.1f%% for a shell that only waits, want < 20%%", u.CPU)
	}
	if u.TotalMemory <= u.Memory {
		t.Errorf("TotalMemory = %d, want more than Memory = %d", u.TotalMemory, u.Memory)
	}
	if first := cur.Usage(nil, cmd.Process.Pid, 1); first.CPUKnown {
		t.Error("Usage without a previous snapshot: CPUKnown = true, want false")
	}
}
