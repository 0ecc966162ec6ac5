package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
	"unicode"

	"golang.org/x/sys/unix"
)

const (
	// programOutputMax is how much of a program's combined output ProgramProbe keeps
	// and matches Output against. The program may write more: the rest is read and
	// dropped, so a chatty program never blocks on a full pipe.
	programOutputMax = 64 << 10
	// programTailMax is how much of the end of the output ProgramProbe keeps to
	// quote the last line of output past programOutputMax.
	programTailMax = 1 << 10
	// programLineMax is how much of the last line of output a reason quotes.
	programLineMax = 200
	// programPipeDelay bounds the wait for the output pipes after the program exited
	// and its process group was killed. Only a process that left the group, with
	// setsid for example, can still hold them open then.
	programPipeDelay = time.Second
)

// ProgramProbe runs a program and checks its exit status and output, like a Nagios
// plugin or a script that checks a queue. It is safe for concurrent use: each run
// starts its own process.
type ProgramProbe struct {
	// Argv is the program and its arguments. It runs without a shell, so write
	// "sh", "-c", "..." to use one. Argv[0] is looked up on PATH when it contains
	// no slash.
	Argv []string
	// Dir is the working directory, or tend's own when empty.
	Dir string
	// Env is the whole environment of the program as "KEY=value" entries, or tend's
	// own environment when nil.
	Env []string
	// Status is the exit status that passes, normally 0.
	Status int
	// Output, when set, must match the program's combined standard output and
	// standard error, of which the first 64 KiB are kept.
	Output *regexp.Regexp
}

// String names the probe by its program, such as "program /usr/local/bin/check-queue".
func (p *ProgramProbe) String() string {
	if len(p.Argv) == 0 {
		return "program (none)"
	}
	return "program " + p.Argv[0]
}

// Probe runs the program once in a process group of its own and waits for it. When ctx
// ends first, Probe kills the whole group with SIGKILL, so children that ignore SIGTERM
// or outlive the program die too, and the result reports a timeout. After the program
// exits, Probe also kills what is left of its group, so a check never leaves processes
// behind. The probe passes when the program exits with Status and, when Output is set,
// its output matches Output. A failed reason quotes the last line of output.
func (p *ProgramProbe) Probe(ctx context.Context) Result {
	start := time.Now()
	if len(p.Argv) == 0 {
		return Result{Reason: "program probe has no command"}
	}

	out := &programOutput{}
	cmd := p.command(ctx, out)
	if err := cmd.Start(); err != nil {
		return Result{Reason: fmt.Sprintf("start %s: %v", p.Argv[0], err), Duration: time.Since(start)}
	}
	waitExited(cmd.Process.Pid)
	// The program is a zombie now, so its PID, which is also the group's ID, cannot
	// have been reused, and the signal reaches only what the program left behind.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	err := cmd.Wait()

	r := Result{Duration: time.Since(start)}
	r.Reason = p.judge(ctx, cmd, err, out, r.Duration)
	r.OK = r.Reason == ""
	return r
}

// command prepares the program with both output streams going to out. Canceling ctx
// kills the process group.
func (p *ProgramProbe) command(ctx context.Context, out *programOutput) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	cmd.Dir = p.Dir
	if p.Env != nil {
		cmd.Env = p.Env
	}
	// The same writer for both streams: os/exec then uses one pipe, and Write is
	// never called concurrently.
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = programPipeDelay
	return cmd
}

// waitExited blocks until the process pid has exited, without reaping it. Any error
// other than an interrupted call means the process cannot be waited for, and then
// cmd.Wait reports the reason.
func waitExited(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// judge returns why the finished program fails the probe, or "" when it passes.
// elapsed is how long the program ran.
func (p *ProgramProbe) judge(ctx context.Context, cmd *exec.Cmd, err error,
	out *programOutput, elapsed time.Duration,
) string {
	name := p.Argv[0]
	last := out.lastLine()
	withLine := func(reason string) string {
		if last == "" {
			return reason
		}
		return reason + ": " + last
	}

	// Once the program has a status, an error of Wait only reports that ctx ended
	// after the exit or that the output pipes were closed, so the status decides.
	state := cmd.ProcessState
	if state == nil {
		return withLine(fmt.Sprintf("wait for %s: %v", name, err))
	}
	if ws, ok := state.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		if ctx.Err() != nil {
			what := "timed out"
			if errors.Is(ctx.Err(), context.Canceled) {
				what = "was canceled"
			}
			return withLine(fmt.Sprintf("%s %s after %s and its process group was killed",
				name, what, elapsed.Round(time.Millisecond)))
		}
		return withLine(fmt.Sprintf("%s was killed by signal %s", name, unix.SignalName(ws.Signal())))
	}
	if status := state.ExitCode(); status != p.Status {
		return withLine(fmt.Sprintf("%s exited with status %d, want %d", name, status, p.Status))
	}
	if p.Output != nil && !p.Output.Match(out.head) {
		return withLine(fmt.Sprintf("output of %s does not match %q", name, p.Output))
	}
	return ""
}

// programOutput keeps the first programOutputMax bytes written to it and the last
// programTailMax. os/exec calls Write from one goroutine at a time, and the probe reads
// the fields only after Wait returned.
type programOutput struct {
	head  []byte
	tail  []byte
	total int64
}

// Write keeps what fits and drops the rest. It never fails, so the program never
// blocks on a full pipe.
func (o *programOutput) Write(b []byte) (int, error) {
	o.total += int64(len(b))
	if room := programOutputMax - len(o.head); room > 0 {
		o.head = append(o.head, b[:min(room, len(b))]...)
	}
	o.tail = append(o.tail, b[max(0, len(b)-programTailMax):]...)
	if extra := len(o.tail) - programTailMax; extra > 0 {
		o.tail = append(o.tail[:0], o.tail[extra:]...)
	}
	return len(b), nil
}

// lastLine returns the last line of output that is not blank, cut to programLineMax
// bytes, with control characters as spaces and invalid UTF-8 replaced.
func (o *programOutput) lastLine() string {
	text := o.head
	if o.total > int64(len(o.head)) {
		text = o.tail
	}
	text = bytes.TrimRightFunc(text, unicode.IsSpace)
	if i := bytes.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	line := strings.ToValidUTF8(string(text[:min(len(text), programLineMax)]), "\uFFFD")
	line = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, line)
	return strings.TrimSpace(line)
}
