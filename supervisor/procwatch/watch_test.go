package procwatch

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"tend/checks"
)

func TestWatchNonChildExit(t *testing.T) {
	ctx := testContext(t)
	h := startRole(t, nil, "spawn", childRoleEnv+"=sleep")
	pid := h.expect(t, "child")
	h.expectReady(t)
	p, err := checks.ReadProcess("/proc", pid)
	if err != nil {
		t.Fatal(err)
	}
	if p.PPID == os.Getpid() {
		t.Fatalf("process %d is a child of the test; the test needs a grandchild", pid)
	}

	w, err := Watch(pid, p.StartTicks)
	if err != nil {
		t.Fatalf("Watch(%d): %v", pid, err)
	}
	defer func() { _ = w.Close() }()
	select {
	case <-w.Done():
		t.Fatal("Done closed while the process runs")
	default:
	}

	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(ctx, t, w)
}

func TestWatchSignal(t *testing.T) {
	ctx := testContext(t)
	h := startRole(t, nil, "sleep")
	h.expectReady(t)
	w, err := Watch(h.pid, startTicks(t, h.pid))
	if err != nil {
		t.Fatalf("Watch(%d): %v", h.pid, err)
	}
	defer func() { _ = w.Close() }()

	if err := w.Signal(unix.SIGTERM); err != nil {
		t.Fatalf("Signal(SIGTERM): %v", err)
	}
	waitDone(ctx, t, w)
	err = h.cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("Wait after SIGTERM = %v, want an exit error", err)
	}
	if ws := exit.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("wait status = %v, want killed by SIGTERM", ws)
	}

	if err := w.Signal(unix.SIGKILL); !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("Signal after reap = %v, want os.ErrProcessDone", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := w.Signal(unix.SIGKILL); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Signal after Close = %v, want os.ErrClosed", err)
	}
}

func TestWatchWrongStartTicks(t *testing.T) {
	h := startRole(t, nil, "sleep")
	ticks := startTicks(t, h.pid)

	w, err := Watch(h.pid, ticks+1)
	if !errors.Is(err, ErrPIDReused) {
		t.Errorf("Watch(%d, ticks+1) error = %v, want ErrPIDReused", h.pid, err)
	}
	if w != nil {
		t.Errorf("Watch(%d, ticks+1) returned a Watcher with its error", h.pid)
		_ = w.Close()
	}

	w, err = Watch(h.pid, ticks)
	if err != nil {
		t.Fatalf("Watch(%d, ticks): %v", h.pid, err)
	}
	_ = w.Close()
}

func TestWatchNoProcess(t *testing.T) {
	cmd := roleCommand("exit")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid

	for _, ticks := range []uint64{0, 1} {
		w, err := Watch(pid, ticks)
		if !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("Watch(reaped %d, %d) error = %v, want os.ErrProcessDone", pid, ticks, err)
		}
		if w != nil {
			_ = w.Close()
		}
	}
}

func TestWatchZombie(t *testing.T) {
	ctx := testContext(t)
	cmd := roleCommand("exit", exitCodeEnv+"=3")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() { _ = cmd.Wait() }()
	w, err := Watch(pid, 0)
	if err != nil {
		t.Fatalf("Watch(%d): %v", pid, err)
	}
	defer func() { _ = w.Close() }()

	waitDone(ctx, t, w)
	p, err := checks.ReadProcess("/proc", pid)
	if err != nil || p.State != 'Z' {
		t.Fatalf("process %d after Done = %+v, %v; want a zombie nobody reaped yet", pid, p, err)
	}
	if err := cmd.Wait(); err == nil || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("Wait = %v, want exit status 3: Watch must not reap", err)
	}
}

func TestWatchClose(t *testing.T) {
	h := startRole(t, nil, "sleep")
	w, err := Watch(h.pid, 0)
	if err != nil {
		t.Fatalf("Watch(%d): %v", h.pid, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	select {
	case <-w.waited:
	default:
		t.Error("waiting goroutine still running after Close")
	}
	select {
	case <-w.Done():
		t.Error("Done closed by Close while the process runs")
	default:
	}
}
