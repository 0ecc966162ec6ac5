package procwatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/checks"
	"tend/internal/testenv"
)

// reaped is what OnReap received.
type reaped struct {
	pid    int
	status unix.WaitStatus
}

// runReaper runs r until the end of the test.
func runReaper(t *testing.T, r *Reaper) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-stopped; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// TestReaperReapsOrphan checks that a grandchild whose parent exited becomes a child
// of the subreaper and that its zombie is reaped with its status.
func TestReaperReapsOrphan(t *testing.T) {
	ctx := testContext(t)
	if err := BecomeSubreaper(); err != nil {
		t.Fatalf("BecomeSubreaper: %v", err)
	}
	got := make(chan reaped, 16)
	r := NewReaper(ReaperOptions{
		Grace:   -1,
		OnReap:  func(pid int, status unix.WaitStatus) { got <- reaped{pid, status} },
		OnError: func(err error) { t.Errorf("scan: %v", err) },
	})
	runReaper(t, r)

	h := startRole(t, r, "spawn", childRoleEnv+"=sleep", orphanEnv+"=1")
	orphan := h.expect(t, "child")
	h.expectReady(t)
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("Wait for the orphan's parent: %v", err)
	}
	adopted := testenv.WaitFor(ctx, func() bool {
		p, err := checks.ReadProcess("/proc", orphan)
		return err == nil && p.PPID == os.Getpid()
	})
	if !adopted {
		t.Fatalf("process %d not re-parented to the subreaper", orphan)
	}

	if err := unix.Kill(orphan, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case rp := <-got:
			if rp.pid != orphan {
				continue // A zombie another test left behind.
			}
			if !rp.status.Signaled() || rp.status.Signal() != unix.SIGKILL {
				t.Errorf("OnReap(%d) status = %v, want killed by SIGKILL", orphan, rp.status)
			}
			if _, err := os.Stat(fmt.Sprintf("/proc/%d", orphan)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("process %d still in /proc after OnReap: %v", orphan, err)
			}
			return
		case <-ctx.Done():
			t.Fatalf("orphan %d not reaped: %v", orphan, ctx.Err())
		}
	}
}

// TestReaperReapsBurst checks that the orphans of a burst of exits are all reaped, though
// the scans that SIGCHLD starts are spaced apart.
func TestReaperReapsBurst(t *testing.T) {
	ctx := testContext(t)
	sh := testenv.LookPath(t, "sh", "apt-get install dash")
	if err := BecomeSubreaper(); err != nil {
		t.Fatalf("BecomeSubreaper: %v", err)
	}
	const count = 40
	got := make(chan reaped, 2*count)
	r := NewReaper(ReaperOptions{
		Grace:   -1,
		Spacing: 200 * time.Millisecond,
		OnReap:  func(pid int, status unix.WaitStatus) { got <- reaped{pid, status} },
		OnError: func(err error) { t.Errorf("scan: %v", err) },
	})
	runReaper(t, r)

	// The shell prints the PID of each sleep and exits, which leaves the sleeps to the
	// subreaper. They exit together a moment later.
	cmd := exec.Command(sh, "-c", fmt.Sprintf(`for i in $(seq %d); do sleep 0.3 & echo $!; done`, count))
	var out strings.Builder
	cmd.Stdout = &out
	if err := r.Start(cmd); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	r.Release(cmd.Process.Pid)
	if err != nil {
		t.Fatalf("shell: %v", err)
	}
	orphans := make(map[int]bool)
	for _, field := range strings.Fields(out.String()) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			t.Fatalf("shell printed %q, want PIDs", out.String())
		}
		orphans[pid] = true
	}
	if len(orphans) != count {
		t.Fatalf("shell printed %d PIDs, want %d", len(orphans), count)
	}

	for len(orphans) > 0 {
		select {
		case rp := <-got:
			if orphans[rp.pid] && (!rp.status.Exited() || rp.status.ExitStatus() != 0) {
				t.Errorf("OnReap(%d) status = %v, want exit status 0", rp.pid, rp.status)
			}
			delete(orphans, rp.pid)
		case <-ctx.Done():
			t.Fatalf("%d orphans not reaped: %v", len(orphans), ctx.Err())
		}
	}
}

// TestReaperNeverStealsStarted checks the invariant that a child started through
// Reaper.Start is left to its exec.Cmd, even when the Reaper scans on every SIGCHLD
// and reaps at first sight.
func TestReaperNeverStealsStarted(t *testing.T) {
	r := NewReaper(ReaperOptions{Grace: -1})
	runReaper(t, r)
	runMany(t, func(cmd *exec.Cmd) error {
		if err := r.Start(cmd); err != nil {
			return err
		}
		defer r.Release(cmd.Process.Pid)
		return cmd.Wait()
	})
}

// TestReaperGraceProtectsUnregistered checks that Grace leaves an exec.Cmd that was
// started without the Reaper enough time to collect its child.
func TestReaperGraceProtectsUnregistered(t *testing.T) {
	r := NewReaper(ReaperOptions{})
	runReaper(t, r)
	runMany(t, func(cmd *exec.Cmd) error { return cmd.Run() })
}

// runMany runs short processes with distinct exit statuses from several goroutines
// through run, and checks that every one reports its own status.
func runMany(t *testing.T, run func(*exec.Cmd) error) {
	t.Helper()
	const workers, perWorker = 8, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				code := (w*perWorker + i) % 7
				cmd := roleCommand("exit", exitCodeEnv+"="+strconv.Itoa(code))
				err := run(cmd)
				var exit *exec.ExitError
				switch {
				case code == 0 && err != nil:
					t.Errorf("run with exit status 0: %v", err)
				case code != 0 && !errors.As(err, &exit):
					t.Errorf("run with exit status %d: %v, want an exit error", code, err)
				case code != 0 && exit.ExitCode() != code:
					t.Errorf("run with exit status %d: got %d", code, exit.ExitCode())
				}
			}
		})
	}
	wg.Wait()
}

func TestReaperGraceWaitsForSecondSighting(t *testing.T) {
	cmd := roleCommand("exit", exitCodeEnv+"=4")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	w, err := Watch(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	waitDone(testContext(t), t, w)
	_ = w.Close()

	var got []reaped
	const grace = time.Minute
	r := NewReaper(ReaperOptions{
		Grace:  grace,
		OnReap: func(pid int, status unix.WaitStatus) { got = append(got, reaped{pid, status}) },
	})
	first := time.Now()
	next, err := r.scan(first)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("first scan reaped %v, want nothing within Grace", got)
	}
	if want := first.Add(grace); !next.Equal(want) {
		t.Errorf("first scan next = %v, want %v", next, want)
	}
	if _, err := r.scan(first.Add(grace - time.Second)); err != nil || len(got) != 0 {
		t.Fatalf("scan before Grace ended reaped %v, %v, want nothing", got, err)
	}

	r.Own(pid)
	if _, err := r.scan(first.Add(grace)); err != nil || len(got) != 0 {
		t.Fatalf("scan of an owned zombie reaped %v, %v, want nothing", got, err)
	}
	r.Release(pid)
	if _, err := r.scan(first.Add(grace)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].pid != pid || got[0].status.ExitStatus() != 4 {
		t.Errorf("scan after Grace reaped %v, want process %d with exit status 4", got, pid)
	}
}
