package procwatch

// The tests start real processes: the test binary runs itself in a role that
// roleEnv names. Run them with: go test -race ./supervisor/procwatch/

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/checks"
	"tend/internal/testenv"
)

const (
	// roleEnv selects the role of a re-executed test binary.
	roleEnv = "PROCWATCH_TEST_ROLE"
	// Variables that configure the role "spawn".
	childRoleEnv  = "PROCWATCH_TEST_CHILD_ROLE"
	setsidEnv     = "PROCWATCH_TEST_SETSID"
	orphanEnv     = "PROCWATCH_TEST_ORPHAN"
	ignoreTermEnv = "PROCWATCH_TEST_IGNORE_TERM"
	// exitCodeEnv is the exit status of the role "exit".
	exitCodeEnv = "PROCWATCH_TEST_EXIT_CODE"

	// roleLifetime bounds how long a role process outlives a test that crashed.
	roleLifetime = 2 * time.Minute
)

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	os.Exit(m.Run())
}

// runRole runs the test binary as a process for a test. Roles report on stdout one
// line per fact, "ready", "child PID" or "port N", which helper.expect reads.
func runRole(role string) int {
	if os.Getenv(ignoreTermEnv) == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	switch role {
	case "exit":
		code, _ := strconv.Atoi(os.Getenv(exitCodeEnv))
		return code
	case "sleep":
		fmt.Println("ready")
	case "listen":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer l.Close()
		fmt.Printf("port %d\n", l.Addr().(*net.TCPAddr).Port)
	case "spawn":
		return spawnRole()
	default:
		fmt.Fprintf(os.Stderr, "unknown role %q\n", role)
		return 2
	}
	time.Sleep(roleLifetime)
	return 0
}

// spawnRole starts a child in the role childRoleEnv names, with its own session when
// setsidEnv is "1", and prints its PID. With orphanEnv "1" it exits at once and
// leaves the child to be re-parented; otherwise it waits for the child and then
// sleeps.
func spawnRole() int {
	cmd := roleCommand(os.Getenv(childRoleEnv), ignoreTermEnv+"=0")
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: os.Getenv(setsidEnv) == "1"}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("child %d\n", cmd.Process.Pid)
	if os.Getenv(orphanEnv) == "1" {
		return 0
	}
	_ = cmd.Wait()
	time.Sleep(roleLifetime)
	return 0
}

// roleCommand returns a command that runs the test binary in role with env added.
// The race detector's exit delay of 1 s per process is turned off, because the tests
// run hundreds of processes.
func roleCommand(role string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0", roleEnv+"="+role)
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// helper is a role process that a test started in a process group of its own.
type helper struct {
	cmd   *exec.Cmd
	pid   int
	lines *bufio.Scanner
}

// startRole starts the test binary in role with env added, and registers a cleanup
// that kills its process group and the children that expect reported.
func startRole(t testing.TB, reaper *Reaper, role string, env ...string) *helper {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	cmd := roleCommand(role, env...)
	cmd.Stdout = w
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if reaper != nil {
		err = reaper.Start(cmd)
	} else {
		err = cmd.Start()
	}
	_ = w.Close()
	if err != nil {
		t.Fatalf("start role %s: %v", role, err)
	}

	h := &helper{cmd: cmd, pid: cmd.Process.Pid, lines: bufio.NewScanner(r)}
	t.Cleanup(func() {
		_ = unix.Kill(-h.pid, unix.SIGKILL)
		_ = cmd.Wait()
		if reaper != nil {
			reaper.Release(h.pid)
		}
		_ = r.Close()
	})
	return h
}

// expect reads output lines of the helper and its children until one starts with
// prefix and a space, and returns the number after it. For "child" it also registers
// a cleanup that kills the child.
func (h *helper) expect(t testing.TB, prefix string) int {
	t.Helper()
	for h.lines.Scan() {
		rest, ok := strings.CutPrefix(h.lines.Text(), prefix+" ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			t.Fatalf("role output %q: %v", h.lines.Text(), err)
		}
		if prefix == "child" {
			killOnCleanup(t, n)
		}
		return n
	}
	t.Fatalf("role output ended before a %q line: %v", prefix, h.lines.Err())
	return 0
}

// expectReady waits for the "ready" line of a role.
func (h *helper) expectReady(t testing.TB) {
	t.Helper()
	for h.lines.Scan() {
		if h.lines.Text() == "ready" {
			return
		}
	}
	t.Fatalf("role output ended before ready: %v", h.lines.Err())
}

// killOnCleanup kills pid at the end of the test if it still has the start time it
// has now, and reaps it when it has become a child of the test process.
func killOnCleanup(t testing.TB, pid int) {
	t.Helper()
	p, err := checks.ReadProcess("/proc", pid)
	if err != nil {
		return
	}
	t.Cleanup(func() {
		_ = signalProcess("/proc", pid, p.StartTicks, unix.SIGKILL)
		if now, err := checks.ReadProcess("/proc", pid); err == nil && now.PPID == os.Getpid() {
			_, _ = unix.Wait4(pid, nil, 0, nil)
		}
	})
}

// startTicks returns the start time of pid.
func startTicks(t testing.TB, pid int) uint64 {
	t.Helper()
	p, err := checks.ReadProcess("/proc", pid)
	if err != nil {
		t.Fatalf("read process %d: %v", pid, err)
	}
	return p.StartTicks
}

// waitDone waits for w.Done until ctx ends.
func waitDone(ctx context.Context, t testing.TB, w *Watcher) {
	t.Helper()
	select {
	case <-w.Done():
	case <-ctx.Done():
		t.Fatalf("Done of process %d not closed: %v", w.PID(), ctx.Err())
	}
}

// testContext bounds a test by its deadline.
func testContext(t testing.TB) context.Context {
	return testenv.Context(t, time.Minute)
}
