package checks

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// roleEnv selects what the test binary does when a test starts it as a child: see
// runRole. roleCountEnv is the role's number: goroutines, MiB, children or files.
const (
	roleEnv      = "TEND_CHECKS_ROLE"
	roleCountEnv = "TEND_CHECKS_COUNT"
)

// TestMain runs the tests, or plays a role in a child that a test started with
// startRole.
func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	os.Exit(m.Run())
}

// runRole does the work of role, prints "ready" and waits until standard input is
// closed, so a child never outlives the test that feeds its standard input. It returns
// the exit code.
func runRole(role string) int {
	count, _ := strconv.Atoi(os.Getenv(roleCountEnv))
	var keep any
	switch role {
	case "burn":
		// Spinning goroutines keep count cores busy, because GOMAXPROCS defaults to
		// the number of CPUs.
		var spins atomic.Int64
		for range count {
			go func() {
				for {
					spins.Add(1)
				}
			}()
		}
	case "alloc":
		// Touch every page so that it counts in the resident set.
		mem := make([]byte, count<<20)
		for i := 0; i < len(mem); i += os.Getpagesize() {
			mem[i] = 1
		}
		keep = mem
	case "fork":
		for range count {
			child := exec.Command(os.Args[0])
			child.Env = append(os.Environ(), roleEnv+"=sleep")
			child.Stdin = os.Stdin
			if err := child.Start(); err != nil {
				fmt.Fprintln(os.Stderr, "start child:", err)
				return 1
			}
		}
	case "files":
		var files []*os.File
		for range count {
			f, err := os.Open(os.DevNull)
			if err != nil {
				fmt.Fprintln(os.Stderr, "open:", err)
				return 1
			}
			files = append(files, f)
		}
		keep = files
	case "sleep":
	default:
		fmt.Fprintln(os.Stderr, "unknown role", role)
		return 2
	}

	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	_ = keep
	return 0
}

// startRole starts the test binary as a child that plays role with count and the extra
// arguments args, and waits until it is ready. The child is killed when the test ends.
func startRole(t testing.TB, role string, count int, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), roleEnv+"="+role, roleCountEnv+"="+strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start role %s: %v", role, err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "ready" {
		t.Fatalf("role %s: first line %q, want \"ready\" (%v)", role, line, err)
	}
	return cmd
}

// snapshotUntil reads snapshots interval apart until cond accepts the latest one with
// its predecessor, and returns both. The interval is what CPU is measured over. It
// fails the test after timeout, passing the last pair to describe.
func snapshotUntil(t *testing.T, opts SnapshotOptions, interval, timeout time.Duration,
	cond func(prev, cur *Snapshot) bool, describe func(prev, cur *Snapshot) string,
) (prev, cur *Snapshot) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := ReadSnapshotWith("/proc", opts)
		if err != nil {
			t.Fatalf("ReadSnapshotWith: %v", err)
		}
		prev, cur = cur, s
		if prev != nil && cond(prev, cur) {
			return prev, cur
		}
		if time.Now().After(deadline) {
			if prev == nil {
				t.Fatalf("no two snapshots within %s", timeout)
			}
			t.Fatalf("condition not met within %s: %s", timeout, describe(prev, cur))
		}
		time.Sleep(interval)
	}
}
