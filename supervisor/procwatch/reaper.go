package procwatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"tend/checks"
)

// BecomeSubreaper makes this process the subreaper of its descendants: a process whose
// parent exits is re-parented to this process instead of to init, so tend keeps
// seeing the processes a service leaves behind and must reap them (see Reaper).
func BecomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become child subreaper: %w", err)
	}
	return nil
}

// ReaperOptions configures a Reaper. The zero value is valid.
type ReaperOptions struct {
	// ProcDir is the proc file system to scan. Empty means "/proc".
	ProcDir string
	// Interval is the time between scans when no SIGCHLD arrives. Zero means 60 s.
	// Every exit of a child sends SIGCHLD, so this scan is only a safety net.
	Interval time.Duration
	// Spacing is the least time between two scans that SIGCHLD starts. Zero means
	// 100 ms. Each scan reads the whole process table, and a burst of exits, such as
	// the start scripts of 500 services, could otherwise start hundreds of them.
	Spacing time.Duration
	// Grace is how long an unregistered zombie child must stay a zombie before it is
	// reaped. Zero means 2 s, and a negative value reaps at the first sighting. Grace
	// protects a child that os/exec started without Reaper.Start, because its Wait
	// has that long to collect the exit status.
	Grace time.Duration
	// OnReap, when set, is called with the PID and wait status of every process
	// reaped. It runs on the goroutine of Run and must not call the Reaper.
	OnReap func(pid int, status unix.WaitStatus)
	// OnError, when set, is called with the error of a scan that failed. The next
	// signal or interval scans again.
	OnError func(err error)
}

// Reaper reaps zombie children that no exec.Cmd will wait for: orphans re-parented to
// tend as subreaper. One goroutine calls Run; Start, Own and Release may be called from
// any goroutine.
//
// A child that an exec.Cmd owns must never be reaped here, or its Wait fails with
// ECHILD. Reaper.Start closes the race between fork and registration: it forks and
// registers the PID while holding mu, and a scan reaps only while holding mu, after
// checking the registered set. So when a scan runs, every child that Start forked is
// registered until the caller releases it after Wait.
//
// A child that os/exec started in other ways (a plain cmd.Run) is unregistered, and
// Grace protects it instead. Such a zombie is reaped only when a scan at least Grace
// after the first sighting still finds it with the same start time. os/exec collects
// a child as soon as its Wait runs, so a Wait that starts within Grace of the exit
// wins.
type Reaper struct {
	opts ReaperOptions

	mu sync.Mutex
	// owned contains the PIDs that an exec.Cmd will wait for.
	owned map[int]struct{}

	// pending contains the unregistered zombies seen and not yet reaped. Only the
	// goroutine of Run touches it.
	pending map[int]sighting
}

// sighting is the first scan that found an unregistered zombie.
type sighting struct {
	startTicks uint64
	first      time.Time
}

// NewReaper returns a Reaper with the defaults of ReaperOptions filled in.
func NewReaper(opts ReaperOptions) *Reaper {
	if opts.ProcDir == "" {
		opts.ProcDir = "/proc"
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	if opts.Spacing <= 0 {
		opts.Spacing = 100 * time.Millisecond
	}
	if opts.Grace == 0 {
		opts.Grace = 2 * time.Second
	}
	return &Reaper{
		opts:    opts,
		owned:   make(map[int]struct{}),
		pending: make(map[int]sighting),
	}
}

// Start starts cmd and registers its PID before any scan can see the child. The caller
// must call Release with cmd.Process.Pid after cmd.Wait returns. Start returns the
// error of cmd.Start and registers nothing when it fails.
func (r *Reaper) Start(cmd *exec.Cmd) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	r.owned[cmd.Process.Pid] = struct{}{}
	return nil
}

// Own registers pid as a child that the caller will wait for, so the Reaper leaves it
// alone. Between fork and Own only Grace protects the child, a gap that Start avoids.
func (r *Reaper) Own(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owned[pid] = struct{}{}
}

// Release ends the registration of pid. Call it after Wait for the child returned.
func (r *Reaper) Release(pid int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.owned, pid)
}

// Run scans for zombie children at start, on SIGCHLD at most once per Spacing, every
// Interval, and when the Grace of a pending zombie ends, until ctx ends. It returns
// ctx.Err().
func (r *Reaper) Run(ctx context.Context) error {
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, unix.SIGCHLD)
	defer signal.Stop(sigchld)
	tick := time.NewTicker(r.opts.Interval)
	defer tick.Stop()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()

	for {
		next, err := r.scan(time.Now())
		if err != nil && r.opts.OnError != nil {
			r.opts.OnError(err)
		}
		retry.Stop()
		if !next.IsZero() {
			retry.Reset(time.Until(next))
		}

		scanned := time.Now()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sigchld:
			// The signals that arrive meanwhile wait in the channel for this scan.
			if wait := time.Until(scanned.Add(r.opts.Spacing)); wait > 0 {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(wait):
				}
			}
		case <-tick.C:
		case <-retry.C:
		}
	}
}

// scan reaps the zombie children that are neither registered nor within Grace. It
// returns when the Grace of the earliest pending zombie ends, or the zero time when
// none is pending.
func (r *Reaper) scan(now time.Time) (time.Time, error) {
	snap, err := checks.ReadSnapshot(r.opts.ProcDir)
	if err != nil {
		return time.Time{}, fmt.Errorf("scan for zombie children: %w", err)
	}
	self := os.Getpid()
	seen := make(map[int]bool)
	var next time.Time
	for _, p := range snap.Processes {
		if p.PPID != self || p.State != 'Z' {
			continue
		}
		seen[p.PID] = true
		s, ok := r.pending[p.PID]
		if !ok || s.startTicks != p.StartTicks {
			s = sighting{startTicks: p.StartTicks, first: now}
			r.pending[p.PID] = s
		}
		due := s.first.Add(r.opts.Grace)
		if r.opts.Grace > 0 && now.Before(due) {
			next = earliest(next, due)
			continue
		}
		status, reaped, gone := r.reap(p.PID, p.StartTicks)
		if gone {
			delete(r.pending, p.PID)
		}
		if reaped && r.opts.OnReap != nil {
			r.opts.OnReap(p.PID, status)
		}
	}

	for pid := range r.pending {
		if !seen[pid] {
			delete(r.pending, pid)
		}
	}
	return next, nil
}

// reap collects the zombie pid unless an exec.Cmd owns it. It holds mu, so Start can
// neither fork nor register while it checks the PID and calls wait4. It checks the
// start time again, so a process that took the PID after the snapshot is left alone.
// It returns the status and reaped when it collected the zombie, and gone when the
// zombie no longer exists, collected by this call or by another waiter.
func (r *Reaper) reap(pid int, startTicks uint64) (status unix.WaitStatus, reaped, gone bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.owned[pid]; ok {
		return 0, false, false
	}
	p, err := checks.ReadProcess(r.opts.ProcDir, pid)
	if err != nil {
		return 0, false, true
	}
	if p.StartTicks != startTicks || p.State != 'Z' || p.PPID != os.Getpid() {
		return 0, false, true
	}

	got, err := unix.Wait4(pid, &status, unix.WNOHANG, nil)
	switch {
	case errors.Is(err, unix.ECHILD):
		return 0, false, true
	case err != nil || got != pid:
		// got is 0 for a thread group leader whose other threads still run: the
		// process is not waitable yet.
		return 0, false, false
	}
	return status, true, true
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
