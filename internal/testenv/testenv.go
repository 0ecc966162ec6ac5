// Package testenv starts the real components that tests talk to (mailpit, redis-server,
// PostgreSQL) on loopback, and decides what a test does when one is missing: it skips
// with a message naming the Debian package or install command, and fails when the
// environment variable CI is "true", so that coverage is never lost in silence.
package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// LookPath returns the path of the executable name, searched on PATH and then in dirs.
// When it is found nowhere, the test is skipped with a message that names how to install
// it, or fails when CI is "true".
func LookPath(t testing.TB, name, install string, dirs ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, name))
		for _, m := range matches {
			if fi, err := os.Stat(m); err == nil && fi.Mode()&0o111 != 0 {
				return m
			}
		}
	}
	Missing(t, name+" not found on PATH; install it with: "+install)
	return ""
}

// Missing skips the test with reason, or fails it when CI is "true".
func Missing(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true, so a missing component is a failure)", reason)
	}
	t.Skip(reason)
}

// FreePort returns a TCP port on 127.0.0.1 that the kernel chose for a listener that is
// closed again at once. It serves servers that cannot listen on port 0 and report the
// port back (redis-server, PostgreSQL, mailpit). Another process could take the port
// before the server binds it; on a test machine that is rare, and the server's start
// then fails loudly.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return port
}

// Addr returns "127.0.0.1:port".
func Addr(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// Context returns a context that ends shortly before the test's deadline, or after
// fallback when the test has none.
func Context(t testing.TB, fallback time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(fallback)
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if td, ok := d.Deadline(); ok {
			deadline = td.Add(-5 * time.Second)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// WaitFor calls cond every 20 ms until it returns true or ctx ends. It reports whether
// cond returned true.
func WaitFor(ctx context.Context, cond func() bool) bool {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return cond()
		case <-tick.C:
		}
	}
}

// WaitTCP waits until addr accepts a TCP connection or ctx ends.
func WaitTCP(ctx context.Context, addr string) bool {
	return WaitFor(ctx, func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	})
}
