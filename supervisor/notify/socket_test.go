// The tests send real datagrams from this process and from re-executed copies of the test
// binary. TestSystemdNotify also needs systemd-notify, from Debian's systemd package; it
// skips without it, or fails when CI=true.
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"tend/internal/testenv"
)

// sendEnv makes the test binary send the value of this variable to NOTIFY_SOCKET and exit.
const sendEnv = "TEND_NOTIFY_TEST_SEND"

func TestMain(m *testing.M) {
	if msg, ok := os.LookupEnv(sendEnv); ok {
		if err := send(os.Getenv("NOTIFY_SOCKET"), msg); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func send(path, msg string) error {
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	_, err = c.Write([]byte(msg))
	return err
}

// listen starts a socket in a fresh directory and closes it when the test ends.
func listen(t *testing.T) *Socket {
	t.Helper()
	s, err := Listen(filepath.Join(t.TempDir(), "notify.sock"))
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// receive returns the next message, failing the test when none arrives before ctx ends.
func receive(ctx context.Context, t *testing.T, s *Socket) Message {
	t.Helper()
	select {
	case m, ok := <-s.Messages():
		if !ok {
			t.Fatalf("Messages closed, Err() = %v", s.Err())
		}
		return m
	case <-ctx.Done():
		t.Fatal("no message before the deadline")
	}
	return Message{}
}

func TestListenSocketMode(t *testing.T) {
	s := listen(t)

	fi, err := os.Lstat(s.Path())
	if err != nil {
		t.Fatalf("Lstat: %v", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		t.Errorf("type = %v, want socket", fi.Mode().Type())
	}
	if perm := fi.Mode().Perm(); perm != 0o666 {
		t.Errorf("permissions = %v, want -rw-rw-rw-", perm)
	}
}

func TestListenRemovesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	stale, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatalf("ListenUnixgram: %v", err)
	}
	_ = stale.Close() // A datagram socket leaves its file behind.

	s, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	_ = s.Close()
}

func TestListenRejectsLiveSocket(t *testing.T) {
	s := listen(t)

	_, err := Listen(s.Path())
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("Listen on a socket in use: err = %v, want one saying it is in use", err)
	}
	if err := send(s.Path(), "READY=1"); err != nil {
		t.Errorf("send to the first socket after the rejected Listen: %v", err)
	}
}

func TestListenRejectsRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}

	_, err := Listen(path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Listen on a regular file: err = %v, want one naming %s", err, path)
	}
	if data, err := os.ReadFile(path); err != nil || string(data) != "keep" {
		t.Errorf("regular file after Listen: %q, %v; want it unchanged", data, err)
	}
}

func TestListenPathLength(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("x", 108-len(dir)))

	_, err := Listen(long)
	if err == nil || !strings.Contains(err.Error(), "107") {
		t.Errorf("Listen with a %d-byte path: err = %v, want one naming the limit 107", len(long), err)
	}
	_, err = Listen("")
	if err == nil {
		t.Error("Listen(\"\"): err = nil, want an error")
	}
}

func TestMessageFromThisProcess(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)

	if err := send(s.Path(), "READY=1\nSTATUS=accepting connections\nMAINPID=4242\n"); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := receive(ctx, t, s)

	if m.PID != os.Getpid() {
		t.Errorf("PID = %d, want %d", m.PID, os.Getpid())
	}
	if !m.Ready() {
		t.Errorf("Ready() = false for %q", m.Raw)
	}
	if got := m.Status(); got != "accepting connections" {
		t.Errorf("Status() = %q, want %q", got, "accepting connections")
	}
	if pid, ok := m.MainPID(); pid != 4242 || !ok {
		t.Errorf("MainPID() = %d, %v; want 4242, true", pid, ok)
	}
	if m.Raw != "READY=1\nSTATUS=accepting connections\nMAINPID=4242\n" {
		t.Errorf("Raw = %q", m.Raw)
	}
}

func TestMessageFromChildProcess(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)

	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = append(FilterEnv(os.Environ()), sendEnv+"=WATCHDOG=1\nSTOPPING=1")
	cmd.Env = append(cmd.Env, Env(s.Path(), 0)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	m := receive(ctx, t, s)

	if m.PID != cmd.Process.Pid {
		t.Errorf("PID = %d, want the child's %d", m.PID, cmd.Process.Pid)
	}
	if m.PID == os.Getpid() {
		t.Errorf("PID = %d is the test process, want the child", m.PID)
	}
	if !m.Watchdog() {
		t.Errorf("Watchdog() = false for %q", m.Raw)
	}
	if !m.Stopping() {
		t.Errorf("Stopping() = false for %q", m.Raw)
	}
}

func TestDropsInvalidDatagrams(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)

	invalid := map[string]string{
		"oversize": "STATUS=" + strings.Repeat("x", maxDatagram),
		"empty":    "",
		"NUL byte": "READY=1\x00STATUS=hidden",
	}
	for name, msg := range invalid {
		if err := send(s.Path(), msg); err != nil {
			t.Fatalf("send %s: %v", name, err)
		}
	}
	if err := send(s.Path(), "\x01\x02garbage\n=novalue\nSTATUS=after"); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := receive(ctx, t, s)

	if got := m.Status(); got != "after" {
		t.Errorf("first message received has STATUS %q, want %q", got, "after")
	}
	if len(m.Fields) != 1 {
		t.Errorf("Fields = %q, want only STATUS", m.Fields)
	}
	if got := s.Dropped(); got != uint64(len(invalid)) {
		t.Errorf("Dropped() = %d, want %d", got, len(invalid))
	}
}

func TestMaxSizeDatagram(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)
	msg := "STATUS=" + strings.Repeat("x", maxDatagram-len("STATUS="))

	if err := send(s.Path(), msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	m := receive(ctx, t, s)

	if len(m.Raw) != maxDatagram {
		t.Errorf("len(Raw) = %d, want %d", len(m.Raw), maxDatagram)
	}
}

// TestClosesPassedFDs protects the rule that no file descriptor a sender passes stays open
// in tend. It passes the write end of a pipe, so reading the read end returns EOF once every copy of
// the write end, the received one included, is closed.
func TestClosesPassedFDs(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = unix.Close(fd) }()
	err = unix.Sendmsg(fd, []byte("FDSTORE=1"), unix.UnixRights(int(w.Fd())), &unix.SockaddrUnix{Name: s.Path()}, 0)
	if err != nil {
		t.Fatalf("sendmsg: %v", err)
	}
	_ = w.Close()
	m := receive(ctx, t, s)

	if m.Fields["FDSTORE"] != "1" {
		t.Errorf("Fields = %q, want FDSTORE=1", m.Fields)
	}
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := r.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Errorf("read from the pipe = %d, %v; want EOF because the passed write end is closed", n, err)
	}
}

func TestClose(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)
	for range queueLen + 4 { // more than the channel holds, so the reader is blocked in a send
		if err := send(s.Path(), "WATCHDOG=1"); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	testenv.WaitFor(ctx, func() bool { return len(s.Messages()) == queueLen })

	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range s.Messages() { // the channel must be closed, so this loop ends
	}
	if _, err := os.Lstat(s.Path()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat after Close: %v, want the socket file removed", err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err() after Close = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseKeepsNewerSocketFile(t *testing.T) {
	first := listen(t)
	if err := os.Remove(first.Path()); err != nil {
		t.Fatal(err)
	}
	second, err := Listen(first.Path())
	if err != nil {
		t.Fatalf("Listen at the same path: %v", err)
	}
	defer func() { _ = second.Close() }()

	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	if err := send(second.Path(), "READY=1"); err != nil {
		t.Errorf("send to the second socket after the first closed: %v", err)
	}
}

func TestAbstractSocket(t *testing.T) {
	ctx := testenv.Context(t, 30*time.Second)
	path := fmt.Sprintf("@tend-notify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	s, err := Listen(path)
	if err != nil {
		t.Fatalf("Listen(%q): %v", path, err)
	}
	defer func() { _ = s.Close() }()

	if err := send(path, "READY=1"); err != nil {
		t.Fatalf("send: %v", err)
	}

	if m := receive(ctx, t, s); !m.Ready() {
		t.Errorf("Ready() = false for %q", m.Raw)
	}
}

// TestSystemdNotify sends with systemd's own client. systemd-notify (checked with systemd
// 252) sends the message and then BARRIER=1 with a pipe's write end, and waits until the
// receiver closes it. When it has CAP_SYS_ADMIN, it puts its parent's PID in the
// credentials of the first message. Without, the kernel fills in its own PID.
func TestSystemdNotify(t *testing.T) {
	bin := testenv.LookPath(t, "systemd-notify", "apt-get install systemd")
	ctx := testenv.Context(t, 30*time.Second)
	s := listen(t)

	cmd := exec.CommandContext(ctx, bin, "--ready", "--status=warming up")
	cmd.Env = append(FilterEnv(os.Environ()), Env(s.Path(), 0)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-notify: %v: %s", err, out)
	}
	m := receive(ctx, t, s)
	barrier := receive(ctx, t, s)

	t.Logf("systemd-notify ran as PID %d, message carries PID %d", cmd.Process.Pid, m.PID)
	if m.PID != os.Getpid() && m.PID != cmd.Process.Pid {
		t.Errorf("PID = %d, want this process (%d) or systemd-notify (%d)", m.PID, os.Getpid(), cmd.Process.Pid)
	}
	if !m.Ready() || m.Status() != "warming up" {
		t.Errorf("message %q, want READY=1 and STATUS=warming up", m.Raw)
	}
	if barrier.Fields["BARRIER"] != "1" || barrier.PID != cmd.Process.Pid {
		t.Errorf("second message %q from PID %d, want BARRIER=1 from %d", barrier.Raw, barrier.PID, cmd.Process.Pid)
	}
}
