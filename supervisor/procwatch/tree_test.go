package procwatch

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/internal/testenv"
)

func TestKillTreeFreesPortOfSetsidGrandchild(t *testing.T) {
	ctx := testContext(t)
	h := startRole(t, nil, "spawn", childRoleEnv+"=listen", setsidEnv+"=1")
	grandchild := h.expect(t, "child")
	port := h.expect(t, "port")
	addr := testenv.Addr(port)
	if !testenv.WaitTCP(ctx, addr) {
		t.Fatalf("grandchild %d does not accept on %s", grandchild, addr)
	}
	w, err := Watch(grandchild, startTicks(t, grandchild))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close() }()

	got := KillTree("/proc", h.pid, unix.SIGKILL)
	if want := []int{grandchild, h.pid}; !slices.Equal(got, want) {
		t.Errorf("KillTree(%d) = %v, want %v", h.pid, got, want)
	}
	waitDone(ctx, t, w)
	freed := testenv.WaitFor(ctx, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	if !freed {
		t.Errorf("port %d still accepts after KillTree", port)
	}
}

func TestKillTreeIgnoredSignalThenKill(t *testing.T) {
	ctx := testContext(t)
	h := startRole(t, nil, "spawn", childRoleEnv+"=sleep", setsidEnv+"=1", ignoreTermEnv+"=1")
	grandchild := h.expect(t, "child")
	h.expectReady(t)
	root, err := Watch(h.pid, startTicks(t, h.pid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close() }()
	child, err := Watch(grandchild, startTicks(t, grandchild))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Close() }()

	got := KillTree("/proc", h.pid, unix.SIGTERM)
	if want := []int{grandchild, h.pid}; !slices.Equal(got, want) {
		t.Errorf("KillTree(%d, SIGTERM) = %v, want %v", h.pid, got, want)
	}
	waitDone(ctx, t, child)
	select {
	case <-root.Done():
		t.Fatal("process that ignores SIGTERM exited after KillTree(SIGTERM)")
	default:
	}

	got = KillTree("/proc", h.pid, unix.SIGKILL)
	if !slices.Contains(got, h.pid) {
		t.Errorf("KillTree(%d, SIGKILL) = %v, want %d among them", h.pid, got, h.pid)
	}
	waitDone(ctx, t, root)
	err = h.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("Wait = %v, want an exit error", err)
	}
	if ws := exit.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		t.Errorf("wait status = %v, want killed by SIGKILL", ws)
	}
}

func TestKillTreeRefusesInit(t *testing.T) {
	for _, pid := range []int{0, 1} {
		if got := KillTree("/proc", pid, 0); got != nil {
			t.Errorf("KillTree(%d) = %v, want nil", pid, got)
		}
	}
}

func TestKillTreeSkipsOwnProcess(t *testing.T) {
	// Signal 0 only checks that the signal could be delivered.
	if got := KillTree("/proc", os.Getpid(), 0); len(got) != 0 {
		t.Errorf("KillTree(own PID) = %v, want nothing", got)
	}
}

func TestMarked(t *testing.T) {
	value := "marked-" + strconv.Itoa(os.Getpid())
	h := startRole(t, nil, "sleep", "TEND_SERVICE="+value)
	h.expectReady(t)
	other := startRole(t, nil, "sleep", "TEND_SERVICE="+value+"-other")
	other.expectReady(t)

	if got := Marked("/proc", "TEND_SERVICE", value); !slices.Equal(got, []int{h.pid}) {
		t.Errorf("Marked(TEND_SERVICE=%s) = %v, want [%d]", value, got, h.pid)
	}
	if got := Marked("/proc", "TEND_SERVICE", "absent-"+value); len(got) != 0 {
		t.Errorf("Marked(absent value) = %v, want none", got)
	}
	if got := Marked(t.TempDir()+"/missing", "TEND_SERVICE", value); got != nil {
		t.Errorf("Marked(missing proc dir) = %v, want nil", got)
	}
}

func TestHasEntry(t *testing.T) {
	environ := []byte("A=1\x00TEND_SERVICE=web\x00B=\x00")
	tests := []struct {
		entry string
		want  bool
	}{
		{"TEND_SERVICE=web", true},
		{"A=1", true},
		{"B=", true},
		{"TEND_SERVICE=we", false},
		{"END_SERVICE=web", false},
		{"TEND_SERVICE=web\x00B=", false},
	}
	for _, tt := range tests {
		if got := hasEntry(environ, []byte(tt.entry)); got != tt.want {
			t.Errorf("hasEntry(%q) = %v, want %v", tt.entry, got, tt.want)
		}
	}
}

func BenchmarkExitNotice(b *testing.B) {
	var notices []time.Duration
	for b.Loop() {
		cmd := roleCommand("sleep")
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		w, err := Watch(cmd.Process.Pid, 0)
		if err != nil {
			b.Fatal(err)
		}

		start := time.Now()
		if err := unix.Kill(cmd.Process.Pid, unix.SIGKILL); err != nil {
			b.Fatal(err)
		}
		<-w.Done()
		notices = append(notices, time.Since(start))

		_ = cmd.Wait()
		_ = w.Close()
	}
	slices.Sort(notices)
	median := notices[len(notices)/2]
	b.ReportMetric(float64(median.Nanoseconds())/1e3, "median-us/notice")
	b.ReportMetric(float64(notices[len(notices)*99/100].Nanoseconds())/1e3, "p99-us/notice")
}
