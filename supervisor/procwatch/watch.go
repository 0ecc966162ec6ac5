// Package procwatch notices the exit of a process at once and cleans up after
// processes. A Watcher waits for one process through a pidfd. A Reaper reaps orphaned
// zombies once tend is their subreaper. KillTree signals a whole process tree, and
// Marked finds processes by a variable in their environment. The package does not
// import package supervisor and logs nothing: callers receive errors and callbacks.
//
// The package is Linux only. A pidfd (pidfd_open, Linux 5.3) refers to one process
// rather than to a PID, so a PID that the kernel reuses is never watched or signalled
// by mistake.
package procwatch

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"tend/checks"
)

// ErrUnsupported means the kernel cannot watch a process through a pidfd (no
// pidfd_open, or a pidfd that the Go netpoller cannot wait on). The caller then notices
// the exit at the next cycle instead.
var ErrUnsupported = errors.New("pidfd not supported by this kernel")

// ErrPIDReused means the PID belongs to a process with another start time than the
// one the caller expected: the process the caller meant has exited and the kernel gave
// its PID to a new one.
var ErrPIDReused = errors.New("PID reused by another process")

// procDir is the proc file system that Watch reads start times from.
const procDir = "/proc"

// Watcher waits for the exit of one process through a pidfd. Watch starts the goroutine
// that waits, Close stops it. Every method is safe for concurrent use.
type Watcher struct {
	pid  int
	file *os.File
	conn syscall.RawConn
	// done is closed by the waiting goroutine when the process exits.
	done chan struct{}
	// waited is closed when the waiting goroutine returns.
	waited chan struct{}
	// closing is closed when Close starts.
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// Watch opens a pidfd for pid and starts waiting for the process to exit. When
// startTicks is not zero, the start time of pid in /proc (in clock ticks after boot,
// as checks.Process.StartTicks) must equal it, or Watch returns an error that matches
// ErrPIDReused and watches nothing.
//
// Watch returns an error that matches os.ErrProcessDone when no process has the PID,
// or when it exited and was reaped before its start time could be checked. It returns
// an error that matches ErrUnsupported when the kernel lacks pidfds. A process that has
// already exited but not been reaped (a zombie) is watched, and Done is closed at once.
func Watch(pid int, startTicks uint64) (*Watcher, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("watch process %d: open pidfd: %w", pid, classify(err))
	}
	if err := checkStart(pid, startTicks); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}

	// os.NewFile adds a non-blocking descriptor to the netpoller, so waiting for the
	// pidfd to become readable parks a goroutine instead of a thread.
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch process %d: set pidfd non-blocking: %w", pid, err)
	}
	file := os.NewFile(uintptr(fd), fmt.Sprintf("pidfd:%d", pid))
	// In package os, SetReadDeadline fails only for a descriptor that os.NewFile
	// could not add to the netpoller.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("watch process %d: poll pidfd: %w: %w", pid, ErrUnsupported, err)
	}
	conn, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}

	w := &Watcher{
		pid:     pid,
		file:    file,
		conn:    conn,
		done:    make(chan struct{}),
		waited:  make(chan struct{}),
		closing: make(chan struct{}),
	}
	go w.wait()
	return w, nil
}

// checkStart compares the start time of pid with startTicks. Watch opens the pidfd
// first, so a match proves that the pidfd refers to the expected process. The caller
// learned startTicks before the pidfd was opened, so that process already held the
// PID then, and no other process can hold the PID while it does.
func checkStart(pid int, startTicks uint64) error {
	if startTicks == 0 {
		return nil
	}
	p, err := checks.ReadProcess(procDir, pid)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read start time: %w", os.ErrProcessDone)
	}
	if err != nil {
		return fmt.Errorf("read start time: %w", err)
	}
	if p.StartTicks != startTicks {
		return fmt.Errorf("started at tick %d after boot, expected %d: %w",
			p.StartTicks, startTicks, ErrPIDReused)
	}
	return nil
}

// classify maps the errno values of the pidfd calls to the errors callers match.
func classify(err error) error {
	switch {
	case errors.Is(err, unix.ESRCH):
		return fmt.Errorf("%w: %w", os.ErrProcessDone, err)
	case errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	default:
		return err
	}
}

// wait parks on the netpoller until the pidfd is readable, which the kernel reports
// once every thread of the process has exited. Read returns an error only when Close
// closed the file, and then done stays open.
func (w *Watcher) wait() {
	defer close(w.waited)
	err := w.conn.Read(func(fd uintptr) bool { return exited(int(fd)) })
	if err == nil {
		close(w.done)
	}
}

// exited polls the pidfd without blocking. POLLIN means the process has exited;
// POLLHUP, reported by newer kernels, means it has also been reaped.
func exited(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		return err == nil && n > 0 && fds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0
	}
}

// PID returns the PID of the watched process.
func (w *Watcher) PID() int { return w.pid }

// Done returns a channel that is closed when the process exits. It works for any
// process, not only a child of tend. A child that has exited counts as exited even
// before it is reaped. Close does not close the channel.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Signal sends sig to the watched process through its pidfd, so it never reaches a
// process that received the PID later. It returns an error that matches
// os.ErrProcessDone when the process has exited and been reaped, and an error that
// matches os.ErrClosed after Close. A zombie accepts the signal and ignores it.
func (w *Watcher) Signal(sig unix.Signal) error {
	var sendErr error
	err := w.conn.Control(func(fd uintptr) {
		sendErr = unix.PidfdSendSignal(int(fd), sig, nil, 0)
	})
	switch {
	case err != nil && w.closed():
		err = os.ErrClosed
	case err == nil:
		err = classify(sendErr)
	}
	if err != nil {
		return fmt.Errorf("send %s to process %d: %w", unix.SignalName(sig), w.pid, err)
	}
	return nil
}

// Close stops the waiting goroutine, waits until it has returned, and closes the
// pidfd. It may be called more than once and returns the error of the first call.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.closing)
		w.closeErr = w.file.Close()
	})
	<-w.waited
	return w.closeErr
}

func (w *Watcher) closed() bool {
	select {
	case <-w.closing:
		return true
	default:
		return false
	}
}
