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
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tend/checks"
	"tend/config"
	"tend/supervisor/execenv"
	"tend/supervisor/notify"
	"tend/supervisor/procwatch"
)

// killWait bounds the wait for a process to go after SIGKILL.
const killWait = 5 * time.Second

// child is a running process of an owned service. The goroutine that waits for it
// closes done after the process exited, and only then are status fields set.
type child struct {
	// cmd is nil for a process adopted from an earlier run of tend.
	cmd        *exec.Cmd
	adopted    bool
	pid        int
	startTicks uint64
	started    time.Time
	done       chan struct{}
	state      *os.ProcessState
	waitErr    error
	// killed is set by the goroutine that stops the child when the stop timeout
	// passed and SIGKILL followed. The loop reads it after that action reported back.
	killed bool
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

// exit describes how the process ended. It may only be called after done is closed.
func (c *child) exit() Exit {
	e := Exit{PID: c.pid, Status: c.exitDescription(), Code: -1, Uptime: time.Since(c.started)}
	if c.state == nil {
		return e
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = int(ws.Signal())
		return e
	}
	e.Code = c.state.ExitCode()
	return e
}

// exitDescription describes how the process ended, such as "exit status 1" or "killed by
// signal 9 (killed)". It may only be called after done is closed.
func (c *child) exitDescription() string {
	if c.adopted {
		return "exited with unknown status (adopted from an earlier run of tend, so not its child)"
	}
	if c.state == nil {
		return fmt.Sprintf("wait: %v", c.waitErr)
	}
	if ws, ok := c.state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by signal %d (%s)", int(ws.Signal()), ws.Signal())
	}
	return fmt.Sprintf("exit status %d", c.state.ExitCode())
}

// Variables that mark the processes of an owned service, so that tend finds them
// again after a restart of its own, and finds descendants that left the process group.
const (
	markerService  = "TEND_SERVICE"
	markerStateDir = "TEND_STATE_DIR"
)

// startChild runs the owned service's command in a process group of its own, as its
// user, with its output logged line by line, and starts the goroutine that waits for it.
func (t *actionTarget) startChild() (*child, error) {
	env, cred, err := t.childEnvironment()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", t.cfg.Name, err)
	}
	// No context: the service outlives the action; stopChild ends it.
	cmd := exec.Command(t.cfg.Command[0], t.cfg.Command[1:]...) //nolint:noctx // see above
	cmd.Dir = t.cfg.Directory
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}

	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", t.cfg.Name, err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if t.reaper != nil {
		err = t.reaper.Start(cmd)
	} else {
		err = cmd.Start()
	}
	_ = w.Close() // The child has its own copy, and the read end gets EOF once every copy is closed.
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("start %s: %w", t.cfg.Name, err)
	}
	pid := cmd.Process.Pid
	go copyOutput(r, t.log.With("pid", pid), t.output)

	c := &child{cmd: cmd, pid: pid, started: time.Now(), done: make(chan struct{})}
	if p, err := checks.ReadProcess(t.procDir, pid); err == nil {
		c.startTicks = p.StartTicks
	}
	reap := func() {
		c.waitErr = cmd.Wait()
		c.state = cmd.ProcessState
		if t.reaper != nil {
			t.reaper.Release(pid)
		}
		close(c.done)
		select {
		case t.exits <- childExit{svc: t.svc, child: c}:
		case <-t.done:
		}
	}
	// cmd.Wait blocks an OS thread in waitid until the child exits, one thread per
	// owned service. The pidfd costs no thread and no goroutine until the exit, and
	// Wait then returns at once. Without pidfds, Wait blocks a thread after all.
	if _, err := procwatch.WatchFunc(pid, c.startTicks, func(w *procwatch.Watcher) {
		_ = w.Close()
		reap()
	}); err != nil {
		go reap()
	}
	return c, nil
}

// childEnvironment returns the environment and credential of the service's process.
func (t *actionTarget) childEnvironment() ([]string, *syscall.Credential, error) {
	opts := execenv.Options{
		Inherit:     t.cfg.InheritEnvironment,
		Environment: t.cfg.Environment,
		Extra:       map[string]string{markerService: t.cfg.Name},
	}
	if t.stateDir != "" {
		opts.Extra[markerStateDir] = t.stateDir
	}
	for _, path := range t.cfg.EnvironmentFiles {
		vars, err := execenv.ParseEnvironmentFile(path)
		if err != nil {
			return nil, nil, err
		}
		opts.Files = append(opts.Files, vars)
	}
	var cred *syscall.Credential
	if t.cfg.User != "" || t.cfg.Group != "" {
		account, err := execenv.LookupAccount(t.cfg.User, t.cfg.Group)
		if err != nil {
			return nil, nil, err
		}
		opts.Account = &account
		if t.cfg.User != "" || int(account.GID) != os.Getgid() {
			cred = account.Credential()
		}
	}
	// An inherited NOTIFY_SOCKET or WATCHDOG_PID is systemd's, meant for tend itself.
	env := notify.FilterEnv(execenv.Build(opts))
	if t.notifyPath != "" {
		env = append(env, notify.Env(t.notifyPath, t.cfg.Watchdog.D())...)
	}
	return env, cred, nil
}

// stopChild sends the stop signal to the child's process tree and waits up to the stop
// timeout for the child to exit. Then it sends SIGKILL to the tree and to every process
// marked as the service's, which ends a child that ignored the stop signal and what it
// left behind, including descendants that called setsid. It waits until none is left.
func stopChild(procDir, stateDir string, cfg config.Service, c *child) error {
	if !c.exited() {
		procwatch.KillTree(procDir, c.pid, unix.Signal(cfg.StopSignal.Signal()))
		// A stopped process acts on the stop signal only once it continues.
		procwatch.KillTree(procDir, c.pid, unix.SIGCONT)
		select {
		case <-c.done:
		case <-time.After(cfg.StopTimeout.D()):
			c.killed = true
		}
	}
	procwatch.KillTree(procDir, c.pid, unix.SIGKILL)
	for _, pid := range markedProcesses(procDir, stateDir, cfg.Name) {
		procwatch.KillTree(procDir, pid, unix.SIGKILL)
	}

	deadline := time.Now().Add(killWait)
	for {
		snap, err := checks.ReadSnapshot(procDir)
		if err != nil {
			return err
		}
		left := len(markedProcesses(procDir, stateDir, cfg.Name))
		if c.exited() && !snap.GroupAlive(c.pid) && left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d or %d marked processes still running %s after SIGKILL",
				c.pid, left, killWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopLeftovers ends the processes that an owned service's exited process left
// running: its descendants, found by the service's mark wherever they moved. They get
// the stop signal and, after the stop timeout, SIGKILL, so that no new process of the
// service runs beside them.
// NOTE: a descendant that rewrote its environment has lost the mark and keeps running.
func stopLeftovers(procDir, stateDir string, cfg config.Service, log *slog.Logger) error {
	left := markedProcesses(procDir, stateDir, cfg.Name)
	if len(left) == 0 {
		return nil
	}
	log.Warn("stopping the processes that the exited process left running", "pids", left)
	for _, pid := range left {
		procwatch.KillTree(procDir, pid, unix.Signal(cfg.StopSignal.Signal()))
		procwatch.KillTree(procDir, pid, unix.SIGCONT)
	}
	// Each look reads the environment of every process, so the pace is slow.
	if left = waitUnmarked(procDir, stateDir, cfg.Name, cfg.StopTimeout.D(), 50*time.Millisecond); len(left) == 0 {
		return nil
	}
	log.Warn("processes left by the exited process still running after the stop timeout, sending SIGKILL",
		"pids", left, "stop_timeout", cfg.StopTimeout)
	for _, pid := range left {
		procwatch.KillTree(procDir, pid, unix.SIGKILL)
	}
	if left = waitUnmarked(procDir, stateDir, cfg.Name, killWait, 10*time.Millisecond); len(left) == 0 {
		return nil
	}
	return fmt.Errorf("processes %v left by the exited process still running %s after SIGKILL", left, killWait)
}

// waitUnmarked looks every pace, for up to limit, until no process carries the mark
// of the service called name, and returns those that still do.
func waitUnmarked(procDir, stateDir, name string, limit, pace time.Duration) []int {
	deadline := time.Now().Add(limit)
	for {
		time.Sleep(pace)
		left := markedProcesses(procDir, stateDir, name)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
	}
}

// markedProcesses returns the live processes whose environment marks them as the
// service's under this state directory: its processes and their descendants, wherever
// they moved in the process tree. Without a state directory there are no markers.
func markedProcesses(procDir, stateDir, name string) []int {
	if stateDir == "" {
		return nil
	}
	inDir := procwatch.Marked(procDir, markerStateDir, stateDir)
	var out []int
	for _, pid := range procwatch.Marked(procDir, markerService, name) {
		if slices.Contains(inDir, pid) && pid != os.Getpid() {
			out = append(out, pid)
		}
	}
	return out
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
		snap, err := checks.ReadSnapshotWith(t.procDir, checks.SnapshotOptions{Cmdline: t.cfg.Match != nil})
		if err != nil {
			return 0, 0, err
		}
		id := findExternal(t.cfg, snap)
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
	signal := len(t.cfg.Stop) == 0
	if !signal {
		pctx, pcancel := context.WithTimeout(context.Background(), t.cfg.StopTimeout.D())
		err := runProgram(pctx, t.cfg.Stop, t.log)
		pcancel()
		if err != nil {
			// The process may still stop cleanly on its stop signal.
			t.log.Warn("stop program failed; sending the stop signal", "err", err, "signal", t.cfg.StopSignal)
			signal = t.sameProcess()
		}
	}
	if signal {
		if err := syscall.Kill(t.pid, t.cfg.StopSignal.Signal()); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("send %s to PID %d: %w", t.cfg.StopSignal, t.pid, err)
		}
		// A stopped process, such as a hung one stopped by SIGSTOP, acts on the stop
		// signal only once it continues.
		_ = syscall.Kill(t.pid, syscall.SIGCONT)
	}

	// The wait for the exit gets its own stop timeout, after the stop program's.
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.StopTimeout.D())
	defer cancel()
	if t.waitGone(ctx) {
		return nil
	}
	if t.sameProcess() {
		t.log.Warn("stop timed out, sending SIGKILL", "pid", t.pid, "stop_timeout", t.cfg.StopTimeout)
		t.killed = true
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
	return runProgramEnv(ctx, argv, nil, log)
}

// runProgramEnv runs a program as runProgram does, with the variables of extra added to
// its environment.
func runProgramEnv(ctx context.Context, argv, extra []string, log *slog.Logger) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(execenv.Build(execenv.Options{}), extra...)
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

// copyOutput reads the output of a service's process until every writer closed the
// pipe. Each line goes to file when the service has a log file, and to the log
// otherwise. It never stops reading early, because a process whose pipe fills up
// blocks: a line longer than the buffer is cut into pieces, and a failed write to
// the log file drops the line and is logged once per run of failures.
func copyOutput(r io.ReadCloser, log *slog.Logger, file io.Writer) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 64*1024)
	failing := false
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 {
			if file == nil {
				log.Info("output", "line", string(bytes.TrimRight(line, "\n")))
			} else if werr := writeLine(file, line); werr != nil && !failing {
				failing = true
				log.Error("write log file; dropping output until a write succeeds", "err", werr)
			} else if werr == nil {
				failing = false
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return
		}
	}
}

// writeLine writes line to w, ending it with a newline when it has none.
func writeLine(w io.Writer, line []byte) error {
	if _, err := w.Write(line); err != nil {
		return err
	}
	if line[len(line)-1] != '\n' {
		_, err := w.Write([]byte{'\n'})
		return err
	}
	return nil
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
