package supervisor

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"time"

	"tend/checks"
	"tend/config"
)

// defaultPath is the PATH of an owned service that sets none in its environment.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// killWait bounds the wait for a process to go after SIGKILL.
const killWait = 5 * time.Second

// child is a running process of an owned service. The goroutine that waits for it
// closes done after the process exited, and only then are status fields set.
type child struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	done    chan struct{}
	state   *os.ProcessState
	waitErr error
}

// childExit is the notice to the loop that an owned service's process exited.
type childExit struct {
	svc   *service
	child *child
}

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// exitDescription describes how the process ended, such as "exit status 1" or "killed by
// signal 9 (killed)". It may only be called after done is closed.
func (c *child) exitDescription() string {
	if c.state == nil {
		return fmt.Sprintf("wait: %v", c.waitErr)
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exit status %d", c.state.ExitCode())
}

// startChild runs the owned service's command in a process group of its own, with its
// output logged line by line, and starts the goroutine that waits for it.
func (t *actionTarget) startChild() (*child, error) {
	// No context: the service outlives the action; stopChild ends it.
	cmd := exec.Command(t.cfg.Command[0], t.cfg.Command[1:]...) //nolint:noctx // see above
	cmd.Dir = t.cfg.Directory
	cmd.Env = serviceEnv(t.cfg.Environment)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", t.cfg.Name, err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	err = cmd.Start()
	_ = w.Close() // The child has its own copy, and the read end gets EOF once every copy is closed.
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("start %s: %w", t.cfg.Name, err)
	}
	go logOutput(r, t.log.With("pid", cmd.Process.Pid))

	c := &child{cmd: cmd, pid: cmd.Process.Pid, started: time.Now(), done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		c.state = cmd.ProcessState
		close(c.done)
		select {
		case t.exits <- childExit{svc: t.svc, child: c}:
		case <-t.done:
		}
	}()
	return c, nil
}

// stopChild sends the stop signal to the child's process group and waits up to the stop
// timeout for the child to exit. Then it sends SIGKILL to the group, which ends a child
// that ignored the stop signal and any process it left behind in its group, and waits
// until no process of the group is left.
func stopChild(procDir string, cfg config.Service, c *child) error {
	if !c.exited() {
		sig := cfg.StopSignal.Signal()
		if err := syscall.Kill(-c.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("send %s to process group %d: %w", cfg.StopSignal, c.pid, err)
		}
		select {
		case <-c.done:
		case <-time.After(cfg.StopTimeout.D()):
		}
	}
	_ = syscall.Kill(-c.pid, syscall.SIGKILL)

	deadline := time.Now().Add(killWait)
	for {
		snap, err := checks.ReadSnapshot(procDir)
		if err != nil {
			return err
		}
		if c.exited() && !snap.GroupAlive(c.pid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still running %s after SIGKILL", c.pid, killWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startExternal runs the start program and waits, within the start timeout, until the
// pidfile names a live process that started before the pidfile was written.
func (t *actionTarget) startExternal(ctx context.Context) (pid int, ticks uint64, err error) {
	if len(t.cfg.Start) == 0 {
		return 0, 0, fmt.Errorf("start %s: no start program configured", t.cfg.Name)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.StartTimeout.D())
	defer cancel()
	if err := runProgram(ctx, t.cfg.Start, t.log); err != nil {
		return 0, 0, fmt.Errorf("start program: %w", err)
	}

	var reason string
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		snap, err := checks.ReadSnapshot(t.procDir)
		if err != nil {
			return 0, 0, err
		}
		id := checks.FindByPidfile(snap, t.cfg.Pidfile)
		if id.Process != nil {
			return id.Process.PID, id.Process.StartTicks, nil
		}
		if id.Reason != reason {
			t.log.Debug("waiting for the pidfile", "reason", id.Reason)
			reason = id.Reason
		}
		select {
		case <-ctx.Done():
			return 0, 0, fmt.Errorf("not running %s after the start program: %s",
				t.cfg.StartTimeout, reason)
		case <-tick.C:
		}
	}
}

// stopExternal runs the stop program, or sends the stop signal, when the recorded
// process is still the one tend identified. It then waits up to the stop timeout for the
// process to exit, and sends SIGKILL if it did not.
func (t *actionTarget) stopExternal() error {
	if !t.sameProcess() {
		return nil // Already gone: nothing to stop.
	}
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.StopTimeout.D())
	defer cancel()
	if len(t.cfg.Stop) > 0 {
		if err := runProgram(ctx, t.cfg.Stop, t.log); err != nil {
			t.log.Warn("stop program failed", "err", err)
		}
	} else if err := syscall.Kill(t.pid, t.cfg.StopSignal.Signal()); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("send %s to PID %d: %w", t.cfg.StopSignal, t.pid, err)
	}

	if t.waitGone(ctx) {
		return nil
	}
	if t.sameProcess() {
		t.log.Warn("stop timed out, sending SIGKILL", "pid", t.pid, "stop_timeout", t.cfg.StopTimeout)
		_ = syscall.Kill(t.pid, syscall.SIGKILL)
	}
	kctx, kcancel := context.WithTimeout(context.Background(), killWait)
	defer kcancel()
	if !t.waitGone(kctx) {
		return fmt.Errorf("PID %d did not exit after SIGKILL", t.pid)
	}
	return nil
}

// sameProcess reports whether the recorded PID still belongs to the recorded process,
// so that tend never signals a process that merely reuses the PID.
func (t *actionTarget) sameProcess() bool {
	if t.pid == 0 {
		return false
	}
	p, err := checks.ReadProcess(t.procDir, t.pid)
	return err == nil && !p.Zombie() && p.StartTicks == t.startTicks
}

func (t *actionTarget) waitGone(ctx context.Context) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for t.sameProcess() {
		select {
		case <-ctx.Done():
			return !t.sameProcess()
		case <-tick.C:
		}
	}
	return true
}

// runProgram runs a start or stop program (an argument vector, no shell) in a process
// group of its own until it exits or ctx ends, and then kills the group. The program's
// output is logged; the last lines of it are part of the error when it fails.
func runProgram(ctx context.Context, argv []string, log *slog.Logger) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = serviceEnv(nil)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A program that daemonizes may leave a child holding its output open.
	cmd.WaitDelay = time.Second
	var out tailBuffer
	cmd.Stdout, cmd.Stderr = &out, &out

	err := cmd.Run()
	for line := range strings.Lines(out.String()) {
		log.Info("program output", "program", argv[0], "line", strings.TrimRight(line, "\n"))
	}
	if err == nil || (errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState.Success()) {
		return nil
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%s timed out: %w", argv[0], ctx.Err())
	}
	if tail := strings.TrimSpace(out.String()); tail != "" {
		return fmt.Errorf("%s: %w: %s", argv[0], err, lastLine(tail))
	}
	return fmt.Errorf("%s: %w", argv[0], err)
}

// serviceEnv is the environment of a program tend runs: PATH plus env, never the
// daemon's own environment.
func serviceEnv(env map[string]string) []string {
	out := []string{}
	if _, ok := env["PATH"]; !ok {
		out = append(out, "PATH="+defaultPath)
	}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, k+"="+env[k])
	}
	return out
}

func logOutput(r io.ReadCloser, log *slog.Logger) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64*1024)
	for sc.Scan() {
		log.Info("output", "line", sc.Text())
	}
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b bytes.Buffer }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const max = 4096
	t.b.Write(p)
	if t.b.Len() > max {
		rest := t.b.Bytes()[t.b.Len()-max:]
		t.b = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return t.b.String() }

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
