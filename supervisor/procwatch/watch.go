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

// Watcher waits for the exit of one process through a pidfd. Every method is safe for
// concurrent use.
type Watcher struct {
	pid    int
	id     uint64
	onExit func(*Watcher)
	// done is closed by the poller when the process exits.
	done chan struct{}

	// mu orders Signal and Close against each other and against the exit, so that a
	// closed pidfd is never used and onExit never starts after Close.
	mu       sync.Mutex
	fd       int
	closed   bool
	closeErr error
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
//
// A Watcher costs a pidfd and no goroutine: one goroutine waits for every watched
// process, so tend can watch thousands of them.
func Watch(pid int, startTicks uint64) (*Watcher, error) {
	return WatchFunc(pid, startTicks, nil)
}

// WatchFunc is Watch with a function that runs once, in a goroutine of its own, when
// the process exits, after Done is closed. It does not run when Close comes first.
func WatchFunc(pid int, startTicks uint64, onExit func(*Watcher)) (*Watcher, error) {
	p, err := sharedPoller()
	if err != nil {
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, fmt.Errorf("watch process %d: open pidfd: %w", pid, classify(err))
	}
	if err := checkStart(pid, startTicks); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}
	w := &Watcher{pid: pid, fd: fd, onExit: onExit, done: make(chan struct{})}
	if err := p.add(w); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("watch process %d: %w", pid, err)
	}
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
	w.mu.Lock()
	var err error
	if w.closed {
		err = os.ErrClosed
	} else {
		err = classify(unix.PidfdSendSignal(w.fd, sig, nil, 0))
	}
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("send %s to process %d: %w", unix.SignalName(sig), w.pid, err)
	}
	return nil
}

// Close stops watching and closes the pidfd. It may be called more than once and
// returns the error of the first call. Close does not close Done.
func (w *Watcher) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return w.closeErr
	}
	w.closed = true
	shared.remove(w)
	w.closeErr = unix.Close(w.fd)
	w.fd = -1
	return w.closeErr
}

// exit closes done and starts onExit, unless Close came first.
func (w *Watcher) exit() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	close(w.done)
	if w.onExit != nil {
		go w.onExit(w)
	}
}

// poller waits for the pidfds of every Watcher on one epoll instance. The epoll
// descriptor is itself on Go's netpoller, so a single goroutine parks for all watched
// processes and no thread blocks. Each pidfd is registered one-shot: it reports the
// exit once and stays quiet until Close removes it.
type poller struct {
	epfd int
	// file keeps the epoll descriptor open and on the netpoller.
	file *os.File
	conn syscall.RawConn

	mu       sync.Mutex
	next     uint64
	watching map[uint64]*Watcher
}

var (
	shared     *poller
	sharedErr  error
	sharedOnce sync.Once
)

// sharedPoller returns the process's poller, started at the first call.
func sharedPoller() (*poller, error) {
	sharedOnce.Do(func() { shared, sharedErr = startPoller() })
	return shared, sharedErr
}

func startPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("create epoll instance: %w", err)
	}
	// os.NewFile adds a non-blocking descriptor to the netpoller, so waiting for the
	// epoll instance to become readable parks a goroutine instead of a thread.
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		return nil, fmt.Errorf("set epoll instance non-blocking: %w", err)
	}
	file := os.NewFile(uintptr(epfd), "epoll:pidfd")
	// In package os, SetReadDeadline fails only for a descriptor that os.NewFile
	// could not add to the netpoller.
	if err := file.SetReadDeadline(time.Time{}); err != nil {
		_ = file.Close()
		return nil, fmt.Errorf("poll epoll instance: %w: %w", ErrUnsupported, err)
	}
	conn, err := file.SyscallConn()
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	p := &poller{epfd: epfd, file: file, conn: conn, watching: make(map[uint64]*Watcher)}
	go p.run()
	return p, nil
}

// add registers the pidfd of w. A pidfd that is readable already, a zombie's, is
// reported at once.
func (p *poller) add(w *Watcher) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.next++
	w.id = p.next
	p.watching[w.id] = w
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLONESHOT, Fd: int32(uint32(w.id)), Pad: int32(uint32(w.id >> 32))}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, w.fd, &ev); err != nil {
		delete(p.watching, w.id)
		return fmt.Errorf("poll pidfd: %w: %w", ErrUnsupported, err)
	}
	return nil
}

// remove unregisters the pidfd of w before Close closes it.
func (p *poller) remove(w *Watcher) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.watching, w.id)
	_ = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
}

// take returns the Watcher of an event and removes it from the map, because a one-shot
// pidfd reports once.
func (p *poller) take(ev unix.EpollEvent) *Watcher {
	id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
	p.mu.Lock()
	defer p.mu.Unlock()
	w := p.watching[id]
	delete(p.watching, id)
	return w
}

// run waits for exits for as long as the process lives. The netpoller watches the
// epoll descriptor edge-triggered, so each wake-up drains every ready event before
// parking again.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 64)
	drain := func(fd uintptr) bool {
		for {
			n, err := unix.EpollWait(int(fd), events, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return false
			}
			for _, ev := range events[:n] {
				if w := p.take(ev); w != nil {
					w.exit()
				}
			}
			if n < len(events) {
				return false // Drained: park until the next exit.
			}
		}
	}
	// drain never reports done, so Read returns only if the descriptor were closed,
	// which nothing does.
	_ = p.conn.Read(drain)
}
