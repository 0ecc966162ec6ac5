package procwatch

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

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
	ctx := testContext(t)
	h := startRole(t, nil, "sleep")
	h.expectReady(t)
	ran := make(chan struct{}, 1)
	w, err := WatchFunc(h.pid, 0, func(*Watcher) { ran <- struct{}{} })
	if err != nil {
		t.Fatalf("WatchFunc(%d): %v", h.pid, err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// A second watcher on the same process proves the exit was seen; the first,
	// closed, must neither close Done nor run its function.
	other, err := Watch(h.pid, 0)
	if err != nil {
		t.Fatalf("Watch(%d): %v", h.pid, err)
	}
	defer func() { _ = other.Close() }()
	if err := unix.Kill(h.pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(ctx, t, other)
	select {
	case <-w.Done():
		t.Error("Done closed after Close")
	case <-ran:
		t.Error("function ran after Close")
	case <-time.After(100 * time.Millisecond):
	}
}

func TestWatchFuncRunsOnce(t *testing.T) {
	ctx := testContext(t)
	h := startRole(t, nil, "sleep")
	h.expectReady(t)
	ran := make(chan *Watcher, 2)
	w, err := WatchFunc(h.pid, startTicks(t, h.pid), func(w *Watcher) {
		select {
		case <-w.Done():
		default:
			t.Error("function ran before Done was closed")
		}
		ran <- w
	})
	if err != nil {
		t.Fatalf("WatchFunc(%d): %v", h.pid, err)
	}
	defer func() { _ = w.Close() }()
	if err := unix.Kill(h.pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-ran:
		if got != w {
			t.Errorf("function got watcher of %d, want %d", got.PID(), w.PID())
		}
	case <-ctx.Done():
		t.Fatal("function did not run after the exit")
	}
	select {
	case <-ran:
		t.Error("function ran twice")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestWatchMany watches more processes than one wait returns events for, and kills
// them in an order unlike the order of Watch: each Done must close for its own
// process only.
func TestWatchMany(t *testing.T) {
	ctx := testContext(t)
	const count = 80
	cmds := make([]*exec.Cmd, count)
	watchers := make([]*Watcher, count)
	for i := range cmds {
		cmd := exec.Command("sleep", "120")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		cmds[i] = cmd
		w, err := Watch(cmd.Process.Pid, 0)
		if err != nil {
			t.Fatalf("Watch(%d): %v", cmd.Process.Pid, err)
		}
		t.Cleanup(func() { _ = w.Close() })
		watchers[i] = w
	}

	// Kill the odd ones, then check that exactly those are done.
	for i := 1; i < count; i += 2 {
		if err := cmds[i].Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i < count; i += 2 {
		waitDone(ctx, t, watchers[i])
	}
	for i := 0; i < count; i += 2 {
		select {
		case <-watchers[i].Done():
			t.Errorf("Done of running process %d closed", watchers[i].PID())
		default:
		}
	}
	// Then all the others at once.
	for i := 0; i < count; i += 2 {
		if err := cmds[i].Process.Kill(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < count; i += 2 {
		waitDone(ctx, t, watchers[i])
	}
}
