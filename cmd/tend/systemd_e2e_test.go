package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tend/alert"
	"tend/config"
	"tend/internal/testenv"
	"tend/supervisor"
)

// notifyListener collects the datagrams sent to a NOTIFY_SOCKET.
type notifyListener struct {
	path string
	mu   sync.Mutex
	msgs []string
}

func listenNotify(t *testing.T) *notifyListener {
	t.Helper()
	n := &notifyListener{path: filepath.Join(t.TempDir(), "notify.sock")}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: n.path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return
			}
			n.mu.Lock()
			n.msgs = append(n.msgs, strings.Split(strings.TrimSpace(string(buf[:k])), "\n")...)
			n.mu.Unlock()
		}
	}()
	return n
}

// count returns how many received lines start with prefix.
func (n *notifyListener) count(prefix string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	c := 0
	for _, m := range n.msgs {
		if strings.HasPrefix(m, prefix) {
			c++
		}
	}
	return c
}

func (n *notifyListener) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.msgs...)
}

// tend under systemd: READY=1 after the first cycle, STATUS= with the summary,
// WATCHDOG=1 at the watchdog's pace, and STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "tend.toml")
	mustWrite(t, cfg, `interval = "200ms"
state_dir = "state"

[control]
socket = "tend.sock"

[[service]]
name = "sleeper"
command = ["sleep", "600"]
`)
	listener := listenNotify(t)
	out := &testenv.SyncBuffer{}
	cmd := exec.Command(tendBinary, "run", "--config", cfg)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+listener.path, "WATCHDOG_USEC=300000")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		if err := <-done; err != nil {
			t.Logf("tend exited with %v", err)
		}
		if t.Failed() {
			t.Logf("tend output:\n%s\nnotify messages: %q", out, listener.all())
		}
	})

	ctx := testenv.Context(t, time.Minute)
	if !testenv.WaitFor(ctx, func() bool {
		return listener.count("READY=1") == 1 && listener.count("WATCHDOG=1") >= 3 &&
			listener.count("STATUS=1 services: 1 running, 0 failed") >= 1
	}) {
		t.Fatal("no READY=1, STATUS= and three WATCHDOG=1")
	}
	msgs := listener.all()
	if !strings.HasPrefix(msgs[0], "STATUS=") {
		t.Errorf("first message %q, want the STATUS= of the first cycle before READY=1", msgs[0])
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("tend exited with %v after SIGTERM, want 0", err)
	}
	done <- nil // The cleanup's wait returns at once.
	if listener.count("STOPPING=1") != 1 {
		t.Errorf("messages %q, want one STOPPING=1 after SIGTERM", listener.all())
	}
}

// The watchdog is pinged only while the supervisor's loop replies to status requests.
func TestWatchdogOnlyWhileLoopAnswers(t *testing.T) {
	listener := listenNotify(t)
	t.Setenv("NOTIFY_SOCKET", listener.path)
	t.Setenv("WATCHDOG_USEC", "150000")
	sup, err := supervisor.New(supervisor.Options{
		Config:  &config.Config{Interval: config.Duration(50 * time.Millisecond), Hostname: "test"},
		Alerter: discardAlerter{}, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go runWatchdog(ctx, slog.New(slog.DiscardHandler), sup)

	// The loop does not run yet, so no status request gets a reply.
	time.Sleep(500 * time.Millisecond)
	if n := listener.count("WATCHDOG=1"); n != 0 {
		t.Fatalf("%d watchdog pings while the loop did not run, want none", n)
	}
	go func() { _ = sup.Run(ctx, nil) }()
	if !testenv.WaitFor(testenv.Context(t, time.Minute), func() bool { return listener.count("WATCHDOG=1") >= 2 }) {
		t.Fatal("no watchdog pings once the loop runs")
	}
}

type discardAlerter struct{}

func (discardAlerter) Send(alert.Event) error { return nil }
