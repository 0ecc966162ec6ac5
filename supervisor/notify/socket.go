// Package notify receives sd_notify messages from supervised services: the server side of
// the protocol that systemd offers through NOTIFY_SOCKET (sd_notify(3), systemd.service(5)).
// A service sends datagrams of newline-separated KEY=VALUE lines, such as READY=1,
// STATUS=..., MAINPID=..., WATCHDOG=1 or STOPPING=1, to a unix datagram socket. The kernel
// attaches the sender's credentials, so each message names the PID that sent it.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// maxDatagram is the largest message accepted, in bytes. A longer datagram is dropped.
	maxDatagram = 4096

	// maxPassedFDs is the kernel's limit on file descriptors in one SCM_RIGHTS message
	// (SCM_MAX_FD in Linux include/net/scm.h).
	maxPassedFDs = 253

	// maxPathLen is the longest filesystem path that fits in sockaddr_un.sun_path, which
	// has 108 bytes including the terminating NUL.
	maxPathLen = 107

	// queueLen is the number of parsed messages buffered for the consumer.
	queueLen = 16
)

// Socket is a listening notify socket. Listen starts one goroutine that reads datagrams and
// sends the parsed messages on the channel returned by Messages. Close stops that goroutine
// and waits for it. All methods are safe for concurrent use.
type Socket struct {
	conn *net.UnixConn
	path string
	info fs.FileInfo // the socket file as created, or nil for an abstract address

	messages chan Message
	closing  chan struct{} // closed by Close to end a blocked send
	stopped  chan struct{} // closed when the read goroutine has returned
	dropped  atomic.Uint64

	mu      sync.Mutex
	readErr error // the read error that stopped the read goroutine

	closeOnce sync.Once
	closeErr  error
}

// Listen creates a unix datagram socket at path and starts reading messages from it. The
// parent directory must exist. A stale socket file at path, one that no process listens on,
// is removed first. Any other file at path, or a socket that is still in use, is an error,
// and the file stays. The socket file gets mode 0666 so that a service running as another
// user can send to it. A path starting with "@" names a socket in the abstract namespace,
// which has no file. Listen returns the socket and a nil error, or a nil socket and an
// error naming path.
func Listen(path string) (*Socket, error) {
	abstract := len(path) > 0 && path[0] == '@'
	if len(path) == 0 || len(path) > maxPathLen {
		return nil, fmt.Errorf("listen on notify socket %q: path must be 1 to %d bytes long, got %d",
			path, maxPathLen, len(path))
	}
	if !abstract {
		if err := removeStale(path); err != nil {
			return nil, err
		}
	}

	lc := net.ListenConfig{Control: enablePassCred}
	pc, err := lc.ListenPacket(context.Background(), "unixgram", path)
	if err != nil {
		return nil, fmt.Errorf("listen on notify socket: %w", err)
	}
	s := &Socket{
		conn:     pc.(*net.UnixConn),
		path:     path,
		messages: make(chan Message, queueLen),
		closing:  make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	if !abstract {
		if err := s.setMode(); err != nil {
			_ = s.conn.Close()
			_ = os.Remove(path)
			return nil, err
		}
	}

	go s.run()
	return s, nil
}

// enablePassCred sets SO_PASSCRED before bind, so that every datagram, the first included,
// arrives with the sender's credentials.
func enablePassCred(_, _ string, rc syscall.RawConn) error {
	var sockErr error
	err := rc.Control(func(fd uintptr) {
		sockErr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
	})
	if err != nil {
		return err
	}
	if sockErr != nil {
		return fmt.Errorf("set SO_PASSCRED: %w", sockErr)
	}
	return nil
}

// removeStale removes a socket file at path that no process receives on. A connect to a
// datagram socket without a receiver fails with ECONNREFUSED.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check notify socket: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("notify socket %s: a file of mode %v is in the way; remove it or choose another path",
			path, fi.Mode())
	}

	var d net.Dialer
	c, err := d.DialContext(context.Background(), "unixgram", path)
	if err == nil {
		_ = c.Close()
		return fmt.Errorf("notify socket %s is in use by another process", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("check notify socket: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale notify socket: %w", err)
	}
	return nil
}

// setMode opens the socket file to every user and records its identity, so that Close
// removes this file and not a newer one at the same path.
func (s *Socket) setMode() error {
	if err := os.Chmod(s.path, 0o666); err != nil { //nolint:gosec // services of any user must be able to send
		return fmt.Errorf("set mode of notify socket: %w", err)
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("check notify socket: %w", err)
	}
	s.info = fi
	return nil
}

// Path returns the address the socket listens on, as passed to Listen.
func (s *Socket) Path() string {
	return s.path
}

// Messages returns the channel of received messages. The channel is closed after Close, or
// when reading from the socket fails, and Err then returns that failure. While no one
// receives, the channel's buffer and then the kernel's socket buffer fill up, and then
// senders that use blocking sends wait.
func (s *Socket) Messages() <-chan Message {
	return s.messages
}

// Dropped returns the number of datagrams dropped so far: those longer than 4096 bytes,
// empty ones, those containing a NUL byte, and those without the sender's credentials.
func (s *Socket) Dropped() uint64 {
	return s.dropped.Load()
}

// Err returns the read error that closed the Messages channel, or nil while the socket
// reads or after Close closed it.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readErr
}

// Close stops reading, waits for the read goroutine to return, closes the socket and
// removes its file. It removes the file only when it is still the one Listen created.
// Messages that were not yet received are discarded. Calls after the first return the
// first call's result.
func (s *Socket) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		err := s.conn.Close()
		<-s.stopped
		s.closeErr = errors.Join(err, s.removeFile())
	})
	return s.closeErr
}

func (s *Socket) removeFile() error {
	if s.info == nil {
		return nil
	}
	fi, err := os.Stat(s.path)
	if err != nil || !os.SameFile(fi, s.info) {
		return nil
	}
	if err := os.Remove(s.path); err != nil {
		return fmt.Errorf("remove notify socket: %w", err)
	}
	return nil
}
